"""Tests of storeapp.listeners: the plugin API, the manager and each plugin."""
