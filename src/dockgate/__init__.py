"""dockgate: the Docker Engine API with access control, many hosts behind one address, tools for people."""

__version__ = "0.1.0"
