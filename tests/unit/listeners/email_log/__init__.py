"""Unit tests of the email log's Qt-free core (no Qt, no disk)."""
