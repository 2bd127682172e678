"""The inventory plugin: every product's stock, always equal to the database,
with low and out-of-stock rows highlighted (stock rows, model, panel, plugin)."""
