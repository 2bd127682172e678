"""Unit tests of the listener plugins' Qt-free cores, one folder per plugin package."""
