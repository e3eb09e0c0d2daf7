"""Issued documents whose PDF the rendering sweep still has to store."""

from __future__ import annotations

from collections.abc import Iterator

from clientledger.billing.models import CreditNote, Estimate, Invoice
from clientledger.core.query import id_chunks


def documents_without_pdf_chunks(
    model: type[Estimate | Invoice | CreditNote], *, size: int
) -> Iterator[list[int]]:
    """The ids of issued (not draft) documents of `model` with no stored PDF, `size` at a
    time, across every agency: the sweep renders them for the whole installation."""
    pending = model.objects.exclude(status="draft").filter(pdf="")
    return id_chunks(pending, size=size)
