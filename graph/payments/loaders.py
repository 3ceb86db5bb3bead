"""Service payments, batched per request."""

from __future__ import annotations

from graph.core.dataloaders import OwnedRowById, Reader
from ledger.queries import rows


class ServicePaymentByIdLoader(OwnedRowById):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.service_payments_by_id)
