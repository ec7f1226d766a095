"""The browser dashboard: pages and live views over every host, served by the gateway's process.

The gateway relays ``/`` (for browsers) and ``/ui/...`` here, over a private socket. Whatever a person
does in the browser reaches an engine as an Engine API call through the gateway's private socket,
carrying that person's session token: the same code authenticates, authorises, polices and audits
it as a ``docker`` CLI call (see :mod:`dockgate.dashboard.engine_calls`).
"""
