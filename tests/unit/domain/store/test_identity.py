"""Identities compared as people read them, and email addresses that are
one mailbox. No disk."""

from __future__ import annotations

import unicodedata
from email.utils import getaddresses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeapp.domain import ValidationError
from storeapp.domain.store.validation import (
    clean_email,
    email_key,
    normalize_username,
    username_key,
    validate_registration,
)
from tests.identities import HOSTILE_EMAILS, SAME_EMAILS, SAME_USERNAMES


@pytest.mark.parametrize(("first", "second"), SAME_USERNAMES)
def test_usernames_that_people_read_as_one_share_a_key(first, second):
    assert username_key(normalize_username(first)) == username_key(normalize_username(second))


def test_different_usernames_keep_different_keys():
    keys = {username_key(name) for name in ("elodie", "élodie", "ada", "adam", "ärger", "arger")}

    assert len(keys) == 6


def test_a_fullwidth_username_is_stored_in_its_ordinary_form():
    assert validate_registration("ａｄｍｉｎ", "a@example.com", "s3cret-pass")[0] == "admin"


@pytest.mark.parametrize(("first", "second"), SAME_EMAILS)
def test_email_addresses_that_are_one_mailbox_share_a_key(first, second):
    assert email_key(clean_email(first)) == email_key(clean_email(second))


def test_an_email_key_keeps_the_domain_in_ascii_and_folds_the_local_part():
    assert email_key(clean_email("Ärger@BÜCHER.de")) == "ärger@xn--bcher-kva.de"


@pytest.mark.parametrize("address", HOSTILE_EMAILS)
def test_an_address_that_is_not_exactly_one_mailbox_is_refused_in_words(address):
    with pytest.raises(ValidationError) as excinfo:
        clean_email(address)

    assert excinfo.value.field == "email"
    message = str(excinfo.value)
    assert message.startswith(("Enter a valid email address", "Email "))
    assert "Traceback" not in message and "\n" not in message


@given(st.text(min_size=1, max_size=30))
def test_a_username_key_is_stable_under_folding_and_normalization(text):
    key = username_key(text)

    assert username_key(key) == key
    assert username_key(text.casefold()) == key
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert username_key(unicodedata.normalize(form, text)) == key


@given(st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=30))
def test_ascii_usernames_differing_only_in_case_share_a_key(text):
    assert username_key(text.upper()) == username_key(text.lower())


@given(st.text(max_size=60))
def test_whatever_clean_email_accepts_reads_back_as_exactly_that_one_address(text):
    try:
        address = clean_email(text)
    except ValidationError:
        return
    assert address.count("@") == 1
    assert not any(c in address for c in '"<>,;:()[] \\\r\n\t')
    assert getaddresses([address]) == [("", address)]


@given(
    st.from_regex(r"\A[a-z0-9]{1,12}\Z"),
    st.sampled_from(["example.com", "shop.example.org", "bücher.de"]),
)
def test_an_address_and_its_upper_case_share_a_key(local, domain):
    first = clean_email(f"{local}@{domain}")
    second = clean_email(f"{local.upper()}@{domain.upper()}")

    assert email_key(first) == email_key(second)
