"""Service payments, batched per request."""

from __future__ import annotations

from graph.core.dataloaders import OwnedRowById, Reader
from ledger.queries import rows
from ledger.queries.results import ServicePaymentRow


class ServicePaymentByIdLoader(OwnedRowById[ServicePaymentRow]):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.service_payments_by_id)
