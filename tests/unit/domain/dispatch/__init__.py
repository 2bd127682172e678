"""Tests of storeapp.domain.dispatch: the Signal class, hooks, instrumentation, streaks."""
