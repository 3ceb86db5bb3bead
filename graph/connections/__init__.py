"""The customer's bank connections: when the service may next sync each by itself, and the
present customer's `connectionRefresh` (docs/consent.md, "Consent limits")."""
