"""The seed's own receivers: a customer for every new user, and an order log.

Nothing happens until :func:`ready` connects them, exactly like Django's
``AppConfig.ready()``: a module that is imported but whose ``ready()`` never
runs hears no signal, so no customer is created for a new user.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import object_session

from storeapp.domain.models import Customer, User
from storeapp.domain.signals import order_created, post_save
from storeapp.listeners.api import ListenerPlugin

logger = logging.getLogger("storeapp.orders")


def create_customer_for_new_user(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    """post_save(User): give each new user a Customer, in the same transaction.

    Saved at once, as Django's ``Customer.objects.create(user=instance)``:
    the Customer's pre_save and post_save are sent inside this receiver, so
    the inspector shows them under the User's post_save.
    """
    if created and instance.customer is None:
        session = object_session(instance)
        assert session is not None
        session.add(Customer(user=instance))
        session.flush()


def on_order_created(sender: Any, order: Any, **kwargs: Any) -> None:
    """order_created: log the order (the seed's print, as a log record)."""
    logger.info(
        "Order #%s placed for %s: %d line(s), total %s",
        order.id,
        order.customer.user.username,
        len(order.items),
        order.total,
    )


def ready() -> None:
    """Connect the receivers. Safe to call twice (dispatch_uid)."""
    post_save.connect(
        create_customer_for_new_user,
        sender=User,
        dispatch_uid="core.create_customer_for_new_user",
    )
    order_created.connect(on_order_created, dispatch_uid="core.on_order_created")


def shutdown() -> None:
    post_save.disconnect(dispatch_uid="core.create_customer_for_new_user", sender=User)
    order_created.disconnect(dispatch_uid="core.on_order_created")


class CorePlugin(ListenerPlugin):
    """The seed's receivers as a plugin. Required: it cannot be disabled."""

    name = "core"
    title = "Core"
    description = (
        "Creates a Customer for every new User (post_save, sender=User, in the "
        "same transaction) and logs every order (order_created). Without it a "
        "new user has no customer profile and cannot check out: the lesson of "
        "registering receivers in AppConfig.ready()."
    )
    listens_to = ("post_save", "order_created")
    order = 0
    required = True

    def ready(self) -> None:
        ready()

    def shutdown(self) -> None:
        shutdown()
