"""storeapp's tests: unit (no Qt, no disk), integration, ui (pytest-qt), reliability."""
