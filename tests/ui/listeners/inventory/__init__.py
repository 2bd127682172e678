"""UI tests of the inventory plugin: its model, panel and plugin with a real store."""
