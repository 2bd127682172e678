"""The analytics plugin: revenue over time and the best sellers, live
(the Qt-free sales aggregate, the top-products model, the chart panel, the plugin)."""
