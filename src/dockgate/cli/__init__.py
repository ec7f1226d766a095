"""The dockgate command line: one module per command under ``commands/``, like docker/cli."""
