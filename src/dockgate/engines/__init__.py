"""Talking to real Docker engines: endpoints, connections, streams. Knows nothing of users."""
