"""Every signal storeapp sends. No logic lives here.

Model signals are sent by the ORM layer (:mod:`storeapp.domain.models`) for
every model, with the model class as ``sender``:

* ``pre_save(instance, raw, using, update_fields)`` before an INSERT or UPDATE,
* ``post_save(instance, created, raw, using, update_fields)`` after it,
* ``pre_delete(instance, origin, using)`` / ``post_delete(instance, origin, using)``.

As in Django, ``using`` is the database alias (``"default"``) and
``update_fields`` is None (no save names its fields). An UPDATE also passes
``changed_fields``, the set of columns it changed: a storeapp addition,
which a receiver written with ``**kwargs`` may read or ignore.

Custom signals are sent by :class:`storeapp.domain.Store` with
``send_robust``, inside the transaction; receivers connected with
``on_commit=True`` run only once it commits.

``plugin_state_changed`` is sent by the plugin manager, ``receiver_failed`` by
the dispatcher itself (:mod:`storeapp.domain.dispatch.streaks`).
"""

from storeapp.domain.dispatch import (
    ANY,
    DEFERRED,
    Signal,
    in_transaction,
    on_commit,
    receiver,
)

__all__ = [
    "ANY",
    "DEFERRED",
    "Signal",
    "in_transaction",
    "on_commit",
    "receiver",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "user_registered",
    "order_created",
    "order_cancelled",
    "plugin_state_changed",
    "receiver_failed",
    "ALL_SIGNALS",
]

pre_save = Signal("Before a model instance is inserted or updated.", name="pre_save")
post_save = Signal(
    "After a model instance is inserted (created=True) or updated.", name="post_save"
)
pre_delete = Signal("Before a model instance is deleted.", name="pre_delete")
post_delete = Signal("After a model instance is deleted.", name="post_delete")

user_registered = Signal(
    "A user registered (kwargs: user). Sent inside the transaction.",
    name="user_registered",
)
order_created = Signal(
    "An order was placed (kwargs: order). Sent inside the transaction.",
    name="order_created",
)
order_cancelled = Signal(
    "An order was cancelled and its stock returned (kwargs: order).",
    name="order_cancelled",
)

plugin_state_changed = Signal(
    "A plugin was enabled, disabled or failed (kwargs: record). sender = the plugin manager.",
    name="plugin_state_changed",
)
receiver_failed = Signal(
    "A receiver raised during send_robust or after commit (kwargs: receiver, "
    "exception, streak = failures in a row, module). sender = the signal.",
    name="receiver_failed",
)

#: The domain's signals (what the inspector watches by default).
ALL_SIGNALS: tuple[Signal, ...] = (
    pre_save,
    post_save,
    pre_delete,
    post_delete,
    user_registered,
    order_created,
    order_cancelled,
)
