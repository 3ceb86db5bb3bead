"""Alif Bank identifiers and product codes as they appear in its OBP data."""

from __future__ import annotations

ALIF_BANK_ID = "alif.tj"
# The ledger's institution row for Alif: code, name, country, BIC (SWIFT ALIFTJ22).
ALIF_INSTITUTION = ("alif", "Alif Bank", "TJ", "ALIFTJ22")

# Alif product_code -> account type. SALOM is the installment card co-branded with
# MegaFon; NASIYA is the installment (loan) account behind it.
PRODUCT_ACCOUNT_TYPES = {
    "WALLET": "WALLET",
    "CURRENT": "CURRENT",
    "SAVINGS": "SAVINGS",
    "DEPOSIT": "DEPOSIT",
    "CARD": "CARD",
    "SALOM": "CARD",
    "NASIYA": "LOAN",
}
