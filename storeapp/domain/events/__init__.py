"""The durable event log: rows appended in the change's transaction (:mod:`.log`),
and the receivers that are delivered them at least once (:mod:`.durable`)."""

from storeapp.domain.events import tables  # the durable receivers' tables join the schema

__all__ = ["tables"]
