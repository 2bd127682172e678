"""Listener plugins and what hosts them: ``api`` (the one module a plugin
imports), ``manager`` (discovery, enable/disable), and one plugin per module
or package (``core``, ``inspector/``, ``email_log/``, ``inventory/``, ...)."""
