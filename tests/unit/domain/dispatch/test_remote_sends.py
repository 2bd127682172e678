"""Remote sends: another till's event reaches only the receivers that ask for it."""

from __future__ import annotations

from typing import Any

from storeapp.domain.dispatch import Signal


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return "ok"


def test_a_remote_send_reaches_only_receivers_connected_with_remote_true() -> None:
    signal = Signal(name="order_created")
    local, shop_wide = Recorder(), Recorder()
    signal.connect(local, weak=False)
    signal.connect(shop_wide, weak=False, remote=True)

    signal.send_remote("Order", terminal="till-2", event_id=7, order_id=3)

    assert local.calls == []
    assert len(shop_wide.calls) == 1
    call = shop_wide.calls[0]
    assert call["signal"] is signal  # told the signal it knows, not an internal one
    assert (call["remote"], call["terminal"], call["event_id"], call["order_id"]) == (
        True,
        "till-2",
        7,
        3,
    )


def test_a_remote_receiver_still_gets_the_local_sends() -> None:
    signal = Signal(name="order_created")
    shop_wide = Recorder()
    signal.connect(shop_wide, weak=False, remote=True)

    signal.send("Order", order_id=1)

    assert shop_wide.calls == [{"signal": signal, "sender": "Order", "order_id": 1}]


def test_disconnecting_a_remote_receiver_stops_its_remote_sends_too() -> None:
    signal = Signal(name="order_created")
    shop_wide = Recorder()
    signal.connect(shop_wide, weak=False, remote=True, dispatch_uid="panel")

    assert signal.disconnect(dispatch_uid="panel")
    signal.send_remote(None, terminal="till-2", event_id=1)

    assert shop_wide.calls == []


def test_a_failing_remote_receiver_does_not_stop_the_next_one() -> None:
    signal = Signal(name="order_created")

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("panel broke")

    after = Recorder()
    signal.connect(broken, weak=False, remote=True)
    signal.connect(after, weak=False, remote=True)

    responses = signal.send_remote(None, terminal="till-2", event_id=1)

    assert isinstance(responses[0][1], RuntimeError)
    assert len(after.calls) == 1
