"""Tests of storeapp.domain."""
