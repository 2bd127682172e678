"""Integration tests of storeapp.mail: backends and delivery against a real store."""
