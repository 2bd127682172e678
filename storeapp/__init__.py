"""storeapp: a point of sale that shows event-driven design with signals at work."""

__version__ = "0.1.0"
