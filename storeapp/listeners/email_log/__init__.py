"""The email log plugin (a welcome email per new user, a confirmation per order):
its Qt-free core ``log``, the ``plugin``, its table ``model`` and ``panel``."""
