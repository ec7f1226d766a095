"""The Docker Engine API served in front of real engines: listeners, routing, hijack relay."""
