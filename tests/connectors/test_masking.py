"""Masking at the boundary: card and account numbers, redaction of free text, excerpts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.masking import PanFormatError, excerpt, mask_account, mask_pan, redact

PAN = "4028011234561234"


@pytest.mark.parametrize(
    ("pan", "masked"),
    [
        ("4028011234561234", "402801******1234"),
        ("4028 0112 3456 1234", "402801******1234"),
        ("5413-5252-0000-0042", "541352******0042"),
        ("9762001234567890123", "976200*********0123"),
        ("4111111111111", "*********1111"),  # 13 digits: last four only
        ("402801******1234", "402801******1234"),
        ("****1234", "****1234"),
        ("•••• •••• •••• 1234", "************1234"),
    ],
)
def test_mask_pan(pan, masked):
    assert mask_pan(pan) == masked


@pytest.mark.parametrize("bad", ["12345", "4028-abcd-1234-5678", "40280112345612345678901", ""])
def test_mask_pan_refuses_odd_values_without_echoing_them(bad):
    with pytest.raises(PanFormatError) as caught:
        mask_pan(bad)

    if bad:
        assert bad not in str(caught.value)


@given(st.text(alphabet="0123456789", min_size=12, max_size=19))
def test_a_masked_pan_never_shows_more_than_bin_and_last_four(pan):
    masked = mask_pan(pan)

    digits = sum(ch.isdigit() for ch in masked)
    assert digits <= 10
    assert digits <= len(pan) - 6
    assert masked.endswith(pan[-4:])
    assert len(masked) == len(pan)


def test_mask_account():
    assert mask_account("20202972100049668601") == "••••8601"
    assert mask_account("123") == "••••"


def test_redact_leaves_ordinary_text_and_account_numbers_alone():
    text = "OBP-30018: Bank Account 20202972100049668601 not found; amount -120.50 TJS"

    assert redact(text) == text


def test_redact_masks_credentials_jwts_and_card_numbers():
    text = (
        'DirectLogin username="farrukh", password="hunter22", consumer_key="ck-1" '
        "Bearer abc.def-ghi token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig card 4028011234561234"
    )

    redacted = redact(text, secrets=["farrukh-secret"])

    assert "hunter22" not in redacted
    assert "ck-1" not in redacted
    assert "abc.def-ghi" not in redacted
    assert "eyJhbGciOiJIUzI1NiJ9" not in redacted
    assert "4028011234561234" not in redacted
    assert "402801******1234" in redacted
    assert 'username="farrukh"' in redacted


def test_excerpt_is_short_and_redacted():
    raw = {"bank_card_number": PAN, "note": "x" * 1000}

    text = excerpt(raw)

    assert PAN not in text
    assert len(text) <= 240
