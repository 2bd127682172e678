"""Tests of this kind; sub-folders mirror the storeapp package tree."""
