"""UI tests of storeapp.listeners: one folder per plugin package."""
