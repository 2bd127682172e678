"""UI tests of the email log plugin: its table model and its panel."""
