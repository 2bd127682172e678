"""Tests of storeapp.domain.store."""
