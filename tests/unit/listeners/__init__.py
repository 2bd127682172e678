"""Unit tests of storeapp.listeners: the Qt-free cores of the plugin packages."""
