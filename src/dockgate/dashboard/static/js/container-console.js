// The container page's Console tab: filled in by a later change.
import { registerTab } from "./container-tabs.js";

registerTab("exec");
