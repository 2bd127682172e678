"""UI tests of the analytics plugin: top-products model, chart panel, plugin."""
