"""The signal inspector: a Qt-free recorder of every send (recorder.py), its
timeline and wiring models, the panel, and the plugin that wires them up."""
