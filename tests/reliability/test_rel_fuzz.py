"""Whatever a caller passes, only a readable DomainError escapes, and a refusal writes nothing.

Hypothesis calls every public Store method with values of every type (huge
and negative ints, bools, floats and NaN, strings with lone surrogates,
None, bytes, Decimal NaN, lists, ...) mixed with valid ids, so that both
refusals and successes happen. Any exception other than a
``storeapp.domain.errors.DomainError`` fails the test; a DomainError must
carry a message a cashier can read (no traceback, no SQL), and the database
must be exactly as it was before a refused call.

The store is shared by all examples of one test (module scope): successful
calls change it as they would in the app, and every call is checked against
a snapshot taken just before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from storeapp.domain import DomainError, Store
from storeapp.domain import errors as domain_errors

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Seed

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a caller should never show a cashier: a traceback or the SQL layer.
LEAK_MARKERS = (
    "Traceback",
    "INSERT",
    "SELECT",
    "UPDATE ",
    "DELETE FROM",
    "sqlite3",
    "psycopg",
    "sqlalchemy",
    "[SQL",
    'File "',
)

SPECIAL_STRINGS = (
    "",
    " ",
    "\t",
    "\ud800",
    "a\udfffb",
    "\x00",
    "\n",
    "1",
    "-1",
    "0",
    "1.5",
    "4.99",
    "1e9999",
    "-0",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "\u0661\u0662",
    "'",
    "%",
    "_",
    "00000000-0000-0000-0000-000000000000",
    "x" * 300,
    "é" * 41,
)
text_any = st.text(
    st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
    max_size=12,
)
junk = st.one_of(
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.integers(max_value=0),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, 10**100, -(2**63)]),
    st.booleans(),
    st.floats(),
    st.none(),
    st.binary(max_size=8),
    st.sampled_from(
        [
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("-Infinity"),
            Decimal("1E+999999"),
            Decimal("0.001"),
            Decimal("-0"),
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True),
    text_any,
    st.sampled_from(SPECIAL_STRINGS),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers(), st.integers()),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.uuids(),
    st.complex_numbers(),
    st.just(object()),
)


def either(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Half valid values, half junk (st.one_of would flatten junk's many
    branches and pick the valid one only once in ~20 draws)."""
    return st.booleans().flatmap(lambda ok: valid if ok else junk)


def readable(err: DomainError, inputs: tuple[Any, ...]) -> None:
    assert type(err).__module__ == domain_errors.__name__, f"foreign DomainError {type(err)}"
    message = str(err)
    assert message.strip(), f"{type(err).__name__} with an empty message"
    assert message.isprintable(), f"unprintable message: {message!r}"
    message.encode("utf-8")  # can be shown, logged and written anywhere
    echoed = " ".join(map(_safe_repr, inputs))
    for marker in LEAK_MARKERS:
        if marker in message and marker not in echoed:
            pytest.fail(f"{type(err).__name__} message leaks {marker!r}: {message!r}")


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except ValueError:  # ints too long to print
        return ""


def _event(text: str) -> None:
    """hypothesis.event(), also usable outside a hypothesis test."""
    try:
        event(text)
    except InvalidArgument:
        pass


class Checked:
    """Calls Store methods; refusals must be DomainErrors that wrote nothing."""

    def __init__(self, store: Store, snapshot: Callable[[Store], Any]) -> None:
        self.store = store
        self.snapshot = snapshot

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        before = self.snapshot(self.store)
        try:
            result = getattr(self.store, method)(*args, **kwargs)
        except DomainError as err:
            _event(f"{method}: {type(err).__name__}")
            readable(err, args + tuple(kwargs.values()))
            assert self.snapshot(self.store) == before, f"refused {method} wrote something"
            return err
        _event(f"{method}: ok")
        return result


@dataclass(frozen=True)
class Template:
    """A database built once per module; each example works on a fresh copy."""

    saved: Path | str  # what clone_store copies: a SQLite file or a PostgreSQL template
    ids: dict[str, list[Any]]  # kind -> ids that exist in it


@pytest.fixture(scope="module")
def template(
    seed: Seed,
    clone_store: Callable[..., AbstractContextManager[Store]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Template:
    """The seed plus two orders, three filled carts and an empty one."""
    with clone_store() as store:
        orders = []
        for user_id in seed.users.values():
            cart = store.create_cart()
            store.add_to_cart(cart.id, 4, 1)
            orders.append(store.place_order(cart.id, user_id).id)
        carts = []
        for product_id in seed.product_ids[:3]:
            cart = store.create_cart()
            store.add_to_cart(cart.id, product_id, 1)
            carts.append(cart.id)
        carts.append(store.create_cart().id)
        saved = clone_store.save(store)
    return Template(
        saved,
        {
            "product": seed.product_ids,
            "user": sorted(seed.users.values()),
            "order": orders,
            "cart": carts,
        },
    )


@pytest.fixture(scope="module")
def fuzz(
    template: Template,
    clone_store: Callable[..., AbstractContextManager[Store]],
    snapshot: Callable[[Store], Any],
) -> Callable[[], AbstractContextManager[Checked]]:
    """``with fuzz() as call:`` a fresh copy of the template, to call into."""

    @contextmanager
    def fresh() -> Iterator[Checked]:
        with clone_store(template.saved) as store:
            yield Checked(store, snapshot)

    return fresh


def an_id(kind: str, template: Template) -> st.SearchStrategy[Any]:
    return either(st.sampled_from(template.ids[kind]))


# Each example makes a few calls on a fresh copy, so calls can build on one
# another (add a line, then remove it) and every example is reproducible.
CALLS = st.integers(1, 3)

usernames = st.from_regex(r"[a-z][a-z0-9_.]{2,12}", fullmatch=True)
emails = st.builds("{}@{}.org".format, usernames, st.from_regex(r"[a-z]{2,8}", fullmatch=True))
passwords = st.text(min_size=8, max_size=16)


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_register_user_accepts_or_refuses_cleanly(
    fuzz: Callable[[], AbstractContextManager[Checked]], data: st.DataObject
) -> None:
    # Junk in none, one or every field: the form's checks run one by one.
    junk_in = data.draw(st.sampled_from(["none", "username", "email", "password", "all"]))
    fields = {
        "username": st.one_of(usernames, st.sampled_from(["alice", "ALICE", "bob"])),
        "email": st.one_of(emails, st.sampled_from(["alice@example.com", "Bob@EXAMPLE.com"])),
        "password": passwords,
    }
    values = {
        name: data.draw(junk if junk_in in (name, "all") else valid, label=name)
        for name, valid in fields.items()
    }
    with fuzz() as call:
        result = call("register_user", values["username"], values["email"], values["password"])
    if not isinstance(result, DomainError):
        assert result.id is not None
        assert values["password"] not in repr(result)


@FUZZ
@given(data=st.data())
def test_product_methods_accept_or_refuse_cleanly(
    fuzz: Callable[[], AbstractContextManager[Checked]],
    template: Template,
    data: st.DataObject,
) -> None:
    with fuzz() as call:
        for _ in range(data.draw(CALLS)):
            method = data.draw(st.sampled_from(["add_product", "update_product", "delete_product"]))
            if method == "add_product":
                call(
                    "add_product",
                    data.draw(either(st.from_regex(r"[A-Z]{2,5}-[0-9]{1,3}", fullmatch=True))),
                    data.draw(either(st.text(min_size=1, max_size=20))),
                    data.draw(either(st.one_of(st.decimals(0, 100, places=2), st.just("4.99")))),
                    data.draw(either(st.integers(0, 100))),
                )
            elif method == "update_product":
                changes = data.draw(
                    st.dictionaries(
                        # Field names come from code: printable ones here; see
                        # test_unknown_field_names_are_shown_escaped for the others.
                        st.one_of(
                            st.sampled_from(
                                [
                                    "sku",
                                    "name",
                                    "unit_price",
                                    "inventory",
                                    "id",
                                    "password_hash",
                                    "bogus",
                                    "",
                                ]
                            ),
                            st.from_regex(r"[a-z_]{1,6}", fullmatch=True).filter(
                                lambda k: k != "product_id"
                            ),
                        ),
                        either(st.one_of(st.integers(0, 20), st.text(min_size=1, max_size=8))),
                        max_size=3,
                    )
                )
                call("update_product", data.draw(an_id("product", template)), **changes)
            else:
                call("delete_product", data.draw(an_id("product", template)))


@FUZZ
@given(data=st.data())
def test_cart_methods_accept_or_refuse_cleanly(
    fuzz: Callable[[], AbstractContextManager[Checked]],
    template: Template,
    data: st.DataObject,
) -> None:
    carts = st.sampled_from(template.ids["cart"]).flatmap(
        lambda c: st.sampled_from([c, str(c), c.hex])
    )
    with fuzz() as call:
        for _ in range(data.draw(CALLS)):
            method = data.draw(
                st.sampled_from(
                    [
                        "create_cart",
                        "add_to_cart",
                        "set_cart_quantity",
                        "remove_from_cart",
                        "get_cart",
                    ]
                )
            )
            if method == "create_cart":
                call("create_cart")
                continue
            cart_id = data.draw(either(carts))
            product_id = data.draw(an_id("product", template))
            if method in ("add_to_cart", "set_cart_quantity"):
                call(method, cart_id, product_id, data.draw(either(st.integers(-1, 4))))
            elif method == "remove_from_cart":
                call(method, cart_id, product_id)
            else:
                call(method, cart_id)


@FUZZ
@given(data=st.data())
def test_order_and_customer_methods_accept_or_refuse_cleanly(
    fuzz: Callable[[], AbstractContextManager[Checked]],
    template: Template,
    data: st.DataObject,
) -> None:
    with fuzz() as call:
        for _ in range(data.draw(CALLS)):
            method = data.draw(
                st.sampled_from(
                    [
                        "place_order",
                        "cancel_order",
                        "get_customer",
                        "list_orders",
                        "get_order",
                        "get_product",
                    ]
                )
            )
            if method == "place_order":
                call(method, data.draw(an_id("cart", template)), data.draw(an_id("user", template)))
            elif method in ("cancel_order", "get_order"):
                call(method, data.draw(an_id("order", template)))
            elif method == "get_customer":
                call(method, data.draw(an_id("user", template)))
            elif method == "get_product":
                call(method, data.draw(an_id("product", template)))
            else:
                call(
                    method,
                    user_id=data.draw(either(st.one_of(st.none(), st.sampled_from([1, 2])))),
                    limit=data.draw(either(st.one_of(st.none(), st.integers(1, 5)))),
                )


# --------------------------------------------------------------------------
# Junk at the other entry points (each was once a bug the fuzzing found:
# unchecked search/status/login text, repr() of a huge int in a message,
# raw keyword names in a message)
# --------------------------------------------------------------------------

HUGE = 10**5000


def _case(method: str, *args: Any, **kwargs: Any) -> Any:
    shown = ", ".join(
        [
            *(_safe_repr(a)[:20] or "<huge int>" for a in args),
            *(f"{k}={_safe_repr(v)[:20] or '<huge int>'}" for k, v in kwargs.items()),
        ]
    )
    return pytest.param(method, args, kwargs, id=f"{method}({shown})")


@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    [
        _case("list_products", search=5),
        _case("list_products", search="\ud800"),
        _case("list_orders", status="\ud800"),
        _case("list_orders", status=[1]),
        _case("authenticate", "\ud800", "password1"),
        _case("authenticate", "alice", "\ud800"),
        _case("authenticate", None, b"x"),
        _case("get_customer", HUGE),
        _case("get_product", HUGE),
        _case("cancel_order", -HUGE),
        _case("get_cart", HUGE),
        _case("list_orders", limit=HUGE),
        _case("update_product", 1, **{"\ud800": 1}),
        _case("update_product", 1, **{"a\x85": 1}),
    ],
)
def test_other_entry_points_refuse_junk_cleanly(
    fuzz: Callable[[], AbstractContextManager[Checked]],
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Each case: a DomainError that reads well and wrote nothing, or a plain answer."""
    with fuzz() as call:
        call(method, *args, **kwargs)


@settings(FUZZ, max_examples=60)
@given(method=st.sampled_from(["list_products", "list_orders", "authenticate"]), value=junk)
def test_search_status_and_login_accept_or_refuse_cleanly(
    fuzz: Callable[[], AbstractContextManager[Checked]], method: str, value: Any
) -> None:
    with fuzz() as call:
        if method == "list_products":
            call(method, search=value)
        elif method == "list_orders":
            call(method, status=value)
        else:
            assert call(method, value, "correct horse battery") is None
