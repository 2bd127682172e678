"""Unit tests of storeapp.mail: building messages (no Qt, no disk)."""
