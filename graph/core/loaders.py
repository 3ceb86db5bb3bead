"""All dataloaders of one request, created with its context."""

from __future__ import annotations

from connectors.bank_access import BankAccess
from graph.accounts.live import LiveBalancesByAccountLoader
from graph.accounts.loaders import AccountByIdLoader, BalancesByAccountLoader, InstitutionByIdLoader
from graph.cards.loaders import CardByIdLoader, CardsByAccountLoader
from graph.core.dataloaders import Reader
from graph.payments.loaders import ServicePaymentByIdLoader
from graph.transactions.loaders import TransactionByIdLoader, TransactionByServicePaymentLoader
from graph.transfers.loaders import TransferByIdLoader, TransferEventsByTransferLoader


class Loaders:
    def __init__(self, reader: Reader, bank: BankAccess) -> None:
        self.account_by_id = AccountByIdLoader(reader)
        self.institution_by_id = InstitutionByIdLoader(reader)
        self.balances_by_account = BalancesByAccountLoader(reader)
        self.live_balances_by_account = LiveBalancesByAccountLoader(reader, bank)
        self.card_by_id = CardByIdLoader(reader)
        self.cards_by_account = CardsByAccountLoader(reader)
        self.transfer_by_id = TransferByIdLoader(reader)
        self.transfer_events_by_transfer = TransferEventsByTransferLoader(reader)
        self.service_payment_by_id = ServicePaymentByIdLoader(reader)
        self.transaction_by_id = TransactionByIdLoader(reader)
        self.transaction_by_service_payment = TransactionByServicePaymentLoader(reader)
