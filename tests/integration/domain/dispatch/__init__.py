"""Tests of storeapp.domain.dispatch against a real SQLite unit of work."""
