"""Integration tests of the listener plugins, one folder per plugin package."""
