"""Tests of the signal inspector plugin (storeapp.listeners.inspector)."""
