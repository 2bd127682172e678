"""A demo plugin that fails on purpose, to show what ``send_robust`` buys.

Enable it from the Plugins menu: every order still goes through, every
other receiver still runs, the failure shows in the signal inspector's
timeline and in the status bar, and after a few failures in a row the
plugin manager switches it off (with a one-click re-enable).
"""

from __future__ import annotations

from typing import Any

from storeapp.domain.signals import order_created
from storeapp.listeners.api import ListenerPlugin


class InjectedFault(RuntimeError):
    """The exception the fault injector raises."""


class FaultInjectorPlugin(ListenerPlugin):
    name = "fault_injector"
    title = "Fault injector"
    description = (
        "Raises an exception in its order_created receiver, on purpose. Shows "
        "that send_robust keeps the order and the other receivers safe, and that "
        "the failure is visible (inspector timeline, status bar, error counter)."
    )
    listens_to = ("order_created",)
    order = 90
    enabled_by_default = False

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.calls = 0

    def ready(self) -> None:
        self.connect(order_created, self.explode)

    def explode(self, sender: Any, order: Any, **kwargs: Any) -> None:
        self.calls += 1
        raise InjectedFault(f"injected fault while handling order #{order.id}")
