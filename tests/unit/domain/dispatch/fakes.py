"""Fakes that record, shared by the dispatch unit tests."""

from __future__ import annotations


class Recorder:
    """A receiver that records each call's keyword arguments."""

    def __init__(self, returns: object = None) -> None:
        self.calls: list[dict[str, object]] = []
        self.returns = returns

    def __call__(self, **kwargs: object) -> object:
        self.calls.append(kwargs)
        return self.returns

    @property
    def senders(self) -> list[object]:
        return [call["sender"] for call in self.calls]


class Boom(Exception):
    pass


class Sender:
    """A sender that can be weakly referenced, like a model class."""
