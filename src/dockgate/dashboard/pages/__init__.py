"""One module per page (and the JSON and streams its scripts use), as the CLI has one per command."""
