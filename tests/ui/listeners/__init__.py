"""UI tests of storeapp.listeners: the plugin API's Qt side (CellModel) and the
plugins' panels, mirroring the package tree."""
