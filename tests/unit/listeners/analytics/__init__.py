"""Unit tests of the analytics plugin's Qt-free core, the sales aggregate."""
