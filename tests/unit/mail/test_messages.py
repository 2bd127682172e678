"""The messages the email log sends: cheap to build (compat32), read back
the same with the modern API, and no way to inject a header."""

from __future__ import annotations

import email
import email.policy

import pytest

from storeapp import mail


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def test_a_non_ascii_name_and_body_read_back_exactly() -> None:
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username="José", email="jose@example.com"
    )
    raw = message.as_bytes()
    assert raw.isascii()  # encoded words and quoted-printable, nothing 8-bit
    back = parsed(message)
    assert str(back["To"]) == "José <jose@example.com>"
    assert str(back["Subject"]) == "Welcome to storeapp, José"
    assert "Hello José," in back.get_content()
    assert back["Message-ID"] and back["Date"] and back["MIME-Version"] == "1.0"


def test_an_ascii_order_is_plain_7bit_text_with_unfolded_headers() -> None:
    lines: list[mail.OrderLine] = [("Coffee beans 250 g", 2, "7.90", "15.80")]
    message = mail.order_confirmation(
        from_address=mail.DEFAULT_FROM,
        username="ada",
        email="ada@example.com",
        order_number=7,
        lines=lines,
        total="15.80",
    )
    text = message.as_bytes().decode("ascii")
    assert "Subject: Your storeapp order #7\n" in text
    assert "To: ada <ada@example.com>\n" in text
    assert 'Content-Type: text/plain; charset="us-ascii"' in text
    assert "Content-Transfer-Encoding: 7bit" in text
    assert "Coffee beans 250 g" in parsed(message).get_content()


@pytest.mark.parametrize("field", ["username", "email"])
def test_a_line_break_in_a_header_value_is_refused(field: str) -> None:
    values = {"username": "ada", "email": "ada@example.com", field: "x\r\nBcc: spy@example.com"}
    with pytest.raises(ValueError, match="line break"):
        mail.welcome_message(from_address=mail.DEFAULT_FROM, **values)


def test_a_from_address_is_usable_only_if_it_reads_as_one_header() -> None:
    assert mail.valid_from_address(mail.DEFAULT_FROM)
    assert mail.valid_from_address("Corner Shop <hello@corner.invalid>")
    assert not mail.valid_from_address("shop@x.invalid\r\nBcc: spy@example.com")
    assert not mail.valid_from_address("hello@")


# -- one mailbox per message --------------------------------------------------------

ADDING_RECIPIENTS = [
    "root>,<eve@evil.example",
    "a@b.com,postmaster.x",
    'a";b@x.com',
    "Ada <ada@example.com>",
    "<ada@example.com>",
    "ada@example.com, eve@evil.example",
    "ada@example.com;eve@evil.example",
    "ada@example.com eve@evil.example",
    "ada(comment)@example.com",
    "ada@example.com\x00",
    "ada@@example.com",
    "@example.com",
    "ada@",
    "ada",
]


@pytest.mark.parametrize("address", ADDING_RECIPIENTS)
def test_a_recipient_that_is_not_exactly_one_mailbox_makes_no_message(address: str) -> None:
    with pytest.raises(ValueError):
        mail.welcome_message(from_address=mail.DEFAULT_FROM, username="ada", email=address)


@pytest.mark.parametrize(
    "name", ["Eve <eve@evil.example>, x", 'a"b', "ada.l@home", "x, y", "Zoë <z@evil.example>"]
)
def test_any_display_name_is_quoted_so_the_to_header_holds_one_address(name: str) -> None:
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username=name, email="ada@example.com"
    )

    to = parsed(message)["To"]
    assert [str(a.addr_spec) for a in to.addresses] == ["ada@example.com"]
    assert to.addresses[0].display_name == name
    assert mail.envelope(message) == ("shop@storeapp.invalid", "ada@example.com")


def test_an_international_address_keeps_its_utf8_local_part_and_an_ascii_domain() -> None:
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username="Ärger", email="ärger@bücher.de"
    )

    raw = message.as_bytes()
    assert "To: Ärger <ärger@xn--bcher-kva.de>".encode() in raw  # RFC 6532: UTF-8 as is
    back = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert isinstance(back, email.message.EmailMessage)
    [address] = back["To"].addresses
    assert address.addr_spec == "ärger@xn--bcher-kva.de"
    assert "Hello Ärger," in back.get_content()
    assert mail.envelope(message)[1] == "ärger@xn--bcher-kva.de"


@pytest.mark.parametrize(
    "to", ["x <root>,<eve@evil.example>", "ada@example.com, eve@evil.example", "", 'a"b@x.com']
)
def test_the_envelope_of_a_message_not_for_exactly_one_mailbox_is_refused_for_good(
    to: str,
) -> None:
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username="ada", email="ada@example.com"
    )
    del message["To"]
    message["To"] = to

    with pytest.raises(mail.InvalidRecipient) as excinfo:
        mail.envelope(message)

    assert mail.is_permanent(excinfo.value)
    assert "\n" not in mail.describe_error(excinfo.value)
