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
