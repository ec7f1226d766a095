"""End-to-end tests of the dashboard in a real browser (a package, so that its test modules may share
basenames with unit tests of the same feature)."""
