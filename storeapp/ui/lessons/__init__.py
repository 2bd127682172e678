"""The Lessons panel: Django's signals taught by doing, in the running app."""
