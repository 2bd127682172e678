"""Fixtures of the integration tests (see :mod:`tests.integration.mailtools`)."""

from tests.integration.mailtools import make_plugin, make_worker, shop, smtp_server

__all__ = ["make_plugin", "make_worker", "shop", "smtp_server"]
