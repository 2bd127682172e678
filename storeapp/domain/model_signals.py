"""The ORM events that send Django's model signals for the models.

Model signals follow Django's semantics: they are sent with ``send`` during
the save, so a receiver's exception aborts it and the transaction rolls
back. ``pre_save``/``pre_delete`` are sent from the mapper events (the
receiver may change the instance's own columns, nothing else);
``post_save``/``post_delete`` are queued by the mapper events and sent once
the flush is over (:class:`SignalSession`, the store's sessions), where a
receiver may save other objects itself, as Django's do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, object_session

from storeapp.domain import signals
from storeapp.domain.models import Base

_QUEUE = "storeapp.post_signals"
_ORIGINS = "storeapp.delete_origins"


#: Django's ``using``: the database alias a model signal's save went to.
#: storeapp has one database, named as Django names its first.
USING = "default"


def save_kwargs(
    instance: Any, created: bool | None = None, changed_fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """The keyword arguments of a ``pre_save`` (``created`` None) or
    ``post_save`` of ``instance``, as Django passes them, plus storeapp's
    ``changed_fields`` for an update. Every sender of a save signal builds
    them here: the ORM events below and checkout's statements alike."""
    kwargs: dict[str, Any] = {"instance": instance}
    if created is not None:
        kwargs["created"] = created
    kwargs["raw"] = False
    kwargs["using"] = USING
    kwargs["update_fields"] = None
    if changed_fields is not None:
        kwargs["changed_fields"] = changed_fields
    return kwargs


def delete_kwargs(instance: Any, origin: Any) -> dict[str, Any]:
    """The keyword arguments of a ``pre_delete``/``post_delete`` of
    ``instance``, as Django passes them (``origin``: the object whose
    deletion was asked for)."""
    return {"instance": instance, "origin": origin, "using": USING}


def _queue(target: Any) -> list[tuple[signals.Signal, Any, dict[str, Any]]]:
    session = object_session(target)
    if session is None:  # pragma: no cover - flush always has a session
        return []
    return session.info.setdefault(_QUEUE, [])


def _changed_fields(target: Any) -> frozenset[str]:
    state = inspect(target)
    return frozenset(
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    )


@event.listens_for(Base, "before_insert", propagate=True)
def _before_insert(mapper: Any, connection: Any, target: Any) -> None:
    signals.pre_save.send(type(target), **save_kwargs(target))


@event.listens_for(Base, "after_insert", propagate=True)
def _after_insert(mapper: Any, connection: Any, target: Any) -> None:
    _queue(target).append((signals.post_save, type(target), save_kwargs(target, created=True)))


@event.listens_for(Base, "before_update", propagate=True)
def _before_update(mapper: Any, connection: Any, target: Any) -> None:
    fields = _changed_fields(target)
    if not fields:
        return
    target.__dict__["_storeapp_update_fields"] = fields
    signals.pre_save.send(type(target), **save_kwargs(target, changed_fields=fields))


@event.listens_for(Base, "after_update", propagate=True)
def _after_update(mapper: Any, connection: Any, target: Any) -> None:
    fields = target.__dict__.pop("_storeapp_update_fields", None)
    if fields is None:
        return
    _queue(target).append(
        (signals.post_save, type(target), save_kwargs(target, created=False, changed_fields=fields))
    )


def _origin(target: Any) -> Any:
    """The object whose deletion was asked for (Django's ``origin``).

    A cascaded delete (a cart's items when the cart is deleted) reports the
    cart; an object deleted for itself (or as an orphan) reports itself.
    """
    session = object_session(target)
    origins = session.info.get(_ORIGINS) if session is not None else None
    if not origins:
        return target
    return origins.get(inspect(target), target)


@event.listens_for(Base, "before_delete", propagate=True)
def _before_delete(mapper: Any, connection: Any, target: Any) -> None:
    signals.pre_delete.send(type(target), **delete_kwargs(target, _origin(target)))


@event.listens_for(Base, "after_delete", propagate=True)
def _after_delete(mapper: Any, connection: Any, target: Any) -> None:
    _queue(target).append(
        (signals.post_delete, type(target), delete_kwargs(target, _origin(target)))
    )


@event.listens_for(Session, "before_flush")
def _record_delete_origins(session: Session, flush_context: Any, instances: Any) -> None:
    # session.deleted already holds the objects reached by delete cascades:
    # map each of them to the deleted object the cascade started from.
    deleted = {inspect(obj): obj for obj in session.deleted}
    if not deleted:
        session.info.pop(_ORIGINS, None)
        return
    reached = {state: _cascaded(state) for state in deleted}
    cascaded = set().union(*reached.values())
    origins: dict[Any, Any] = {}
    for state, obj in deleted.items():
        if state in cascaded:
            continue
        origins[state] = obj
        for child in reached[state]:
            if child in deleted:
                origins.setdefault(child, obj)
    session.info[_ORIGINS] = origins


def _cascaded(state: Any) -> set[Any]:
    """States reached from ``state`` through relationships that cascade delete."""
    return {
        child_state
        for _obj, _mapper, child_state, _dict in state.mapper.cascade_iterator("delete", state)
    }


class SignalSession(Session):
    """A session that sends the queued post_save/post_delete once a flush is over.

    SQLAlchemy's ``after_flush_postexec`` runs while the session is still
    flushing, where a receiver cannot save anything itself: what it adds
    waits for the next flush, and its sends come out after the receiver
    returned. Sent here instead, after the flush, a receiver can save as
    Django's does (``Customer.objects.create(user=instance)`` inside
    ``post_save``): its flush sends the new object's pre_save and post_save
    *inside* the receiver's send, so the inspector nests them under it.
    Every flush goes through here: autoflush, ``commit()``'s and the unit
    of work's.
    """

    def flush(self, objects: Any = None) -> None:
        super().flush(objects)
        if not self._flushing:
            send_post_signals(self)


def send_post_signals(session: Session) -> None:
    """Send the post_save/post_delete the last flush queued, in its order."""
    queued = session.info.pop(_QUEUE, None)
    session.info.pop(_ORIGINS, None)
    if not queued:
        return
    for signal, sender, kwargs in queued:
        signal.send(sender, **kwargs)


@event.listens_for(Session, "after_flush_postexec")
def _send_post_signals(session: Session, flush_context: Any) -> None:
    # A plain Session (a script's, a test's) sends them at the end of the
    # flush as before; a SignalSession after it.
    if not isinstance(session, SignalSession):
        send_post_signals(session)


@event.listens_for(Session, "after_rollback")
def _forget_queue(session: Session) -> None:
    session.info.pop(_QUEUE, None)
    session.info.pop(_ORIGINS, None)
