"""The durable event log: rows appended in the change's transaction (:mod:`.log`)."""
