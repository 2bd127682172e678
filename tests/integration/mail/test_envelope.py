"""The SMTP envelope is the message's one validated recipient: a real relay
(aiosmtpd) receives RCPT TO for that address alone, never what a tampered
header would add, and an international address goes over SMTPUTF8."""

from __future__ import annotations

import pytest

from storeapp import mail
from tests.integration.mailtools import parse


def test_the_relay_is_given_exactly_the_one_recipient(smtp_server):
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM,
        username="Eve <eve@evil.example>, x",
        email="ada@example.com",
    )

    assert mail.SMTPBackend(port=smtp_server.port).send_messages([message]) == 1

    [(sender, recipients, data)] = smtp_server.handler.messages
    assert (sender, recipients) == ("shop@storeapp.invalid", ["ada@example.com"])
    assert [a.addr_spec for a in parse(data)["To"].addresses] == ["ada@example.com"]


@pytest.mark.parametrize("to", ["x <root>,<eve@evil.example>", "ada@example.com, eve@evil.example"])
def test_a_message_whose_to_header_adds_a_recipient_never_reaches_the_relay(smtp_server, to):
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username="ada", email="ada@example.com"
    )
    del message["To"]
    message["To"] = to

    with pytest.raises(mail.InvalidRecipient) as excinfo:
        mail.SMTPBackend(port=smtp_server.port).send_messages([message])

    assert mail.is_permanent(excinfo.value)
    assert smtp_server.handler.messages == []


def test_an_international_address_is_delivered_over_smtputf8(smtp_server):
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username="Ärger", email="ärger@bücher.de"
    )

    mail.SMTPBackend(port=smtp_server.port).send_messages([message])

    [(_sender, recipients, data)] = smtp_server.handler.messages
    assert recipients == ["ärger@xn--bcher-kva.de"]
    assert "To: Ärger <ärger@xn--bcher-kva.de>".encode() in data
