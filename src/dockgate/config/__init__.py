"""dockgate's configuration: one TOML file, environment variables and flags, validated at start."""
