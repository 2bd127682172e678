"""Identities that people read as one, and addresses that are not one
mailbox: shared by the unit and integration tests of accounts."""

from __future__ import annotations

SAME_USERNAMES = [
    ("élodie", "ÉLODIE"),
    ("ärger", "Ärger"),
    ("ａｄｍｉｎ", "admin"),
    ("straße", "STRASSE"),
    ("e\u0301lodie", "élodie"),  # decomposed and precomposed é
    ("ΣΊΣΥΦΟΣ", "σίσυφος"),
]

SAME_EMAILS = [
    ("ärger@example.com", "ÄRGER@example.com"),
    ("Ärger@example.com", "ärger@EXAMPLE.com"),
    ("ada@example.com", "ADA@Example.COM"),
    ("ada@bücher.de", "ada@xn--bcher-kva.de"),
    ("ada@BÜCHER.de", "ada@bücher.de"),
    ("ａｄａ@example.com", "ada@example.com"),
]

HOSTILE_EMAILS = [
    "root>,<eve@evil.example",
    "a@b.com,postmaster.x",
    'a";b@x.com',
    '"ada"@example.com',
    "Ada <ada@example.com>",
    "ada@example.com, eve@evil.example",
    "ada@example.com;eve@evil.example",
    "ada@example.com eve@evil.example",
    "ada(comment)@example.com",
    "ada@example.com\r\nBcc: eve@evil.example",
    "ada@example.com\nBcc: eve@evil.example",
    "ada@example.com\x00",
    "a\u202eda@example.com",
    "a\u200bda@example.com",
    "ada@[127.0.0.1]",
    "ada@@example.com",
    "@example.com",
    "ada@",
    "ada",
    "ada@example",
    "<ada@example.com>",
    "ada@example.com>",
]
