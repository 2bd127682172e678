"""A log-in's timing does not tell whether a username exists: an unknown
user is checked against one precomputed dummy hash, so both answers cost
one password hash. Timed as a ratio of two medians measured side by side
in the same run, never against the clock."""

from __future__ import annotations

import statistics
import time

from storeapp.domain import Store

PASSWORD = "s3cret-pass"
ROUNDS = 15
#: How far apart the two medians may be (the issue's bound; the two paths
#: differ by one indexed query's worth of work, measured at ~1.0x).
MAX_RATIO = 1.3


def timed_refusal(store: Store, username: str) -> float:
    start = time.perf_counter()
    refused = store.authenticate(username, "wrong-password")
    elapsed = time.perf_counter() - start
    assert refused is None
    return elapsed


def login_timing_ratio(store: Store) -> float:
    """The slower path's median over the faster one's."""
    store.register_user("ada", "ada@example.com", PASSWORD)
    timed_refusal(store, "nobody")  # the first unknown user makes the dummy hash
    timed_refusal(store, "ada")
    known: list[float] = []
    unknown: list[float] = []
    for i in range(ROUNDS):
        pairs = [(known, "ada"), (unknown, f"nobody-{i}")]
        for bucket, name in pairs if i % 2 else reversed(pairs):  # alternate the order
            bucket.append(timed_refusal(store, name))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    return max(known_median, unknown_median) / min(known_median, unknown_median)


def test_an_unknown_user_costs_what_a_wrong_password_costs(store, record_property):
    ratio = login_timing_ratio(store)

    record_property("login_timing_ratio", round(ratio, 3))
    print(f"login timing ratio (slower median / faster median): {ratio:.3f}")
    assert ratio <= MAX_RATIO, f"the two answers' medians are {ratio:.2f}x apart"
