"""Integration tests of the email log plugin against a real SQLite store."""
