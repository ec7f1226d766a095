"""``python -m dockgate``."""

from dockgate.cli.app import main

main()
