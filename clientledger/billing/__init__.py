"""Estimates and invoices: their lifecycle, numbers, documents and the client ledger."""
