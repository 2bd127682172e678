"""Unit tests of the inventory plugin's Qt-free core (stock rows, the low-stock rule)."""
