"""Enrichment: what the ledger learns about rows after they are stored."""
