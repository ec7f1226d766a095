// The container page's Stats tab: filled in by a later change.
import { registerTab } from "./container-tabs.js";

registerTab("stats");
