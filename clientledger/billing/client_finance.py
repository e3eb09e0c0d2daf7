"""billing's answers to what crm asks about a client's or a deal's money (`crm.finance`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import client_outstanding_balance
from clientledger.billing.models import LedgerEntry
from clientledger.billing.selectors import RecordDocuments, client_documents, deal_documents, owing
from clientledger.crm.models import Client, Deal


class BillingClientFinance:
    """Registered with `crm.finance.client_finance_register` in `BillingConfig.ready`."""

    def client_balance(self, *, agency: Agency, client: Client) -> Decimal:
        return client_outstanding_balance(agency=agency, client=client)

    def client_documents(self, *, agency: Agency, client: Client) -> RecordDocuments:
        return client_documents(agency=agency, client=client)

    def deal_documents(self, *, agency: Agency, deal: Deal) -> RecordDocuments:
        return deal_documents(agency=agency, deal=deal)

    def clients_with_amounts_owed(
        self, *, agency: Agency, clients: QuerySet[Client], today: dt.date
    ) -> QuerySet[Client]:
        return owing.clients_with_amounts_owed(clients, agency=agency, today=today)

    def deals_with_amounts_owed(
        self, *, agency: Agency, deals: QuerySet[Deal], today: dt.date
    ) -> QuerySet[Deal]:
        return owing.deals_with_amounts_owed(deals, agency=agency, today=today)

    def client_has_records(self, *, client: Client) -> bool:
        """Ledger entries are amounts in the client's currency (invoices issued, payments)."""
        return LedgerEntry.objects.filter(client=client).exists()
