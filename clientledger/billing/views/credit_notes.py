"""The credit note's own pages: created from its invoice, its details and lines tied to the
invoice's, issuing it, and settling its credit (its refund is a payments page)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_format

from clientledger.billing.forms import (
    CreditLineFormSet,
    CreditNoteApplyForm,
    CreditNoteDetailsForm,
    CreditNoteIssueForm,
    CreditNoteSettleForm,
)
from clientledger.billing.models import CreditNote, CreditNoteStatus, Invoice
from clientledger.billing.selectors.credits import (
    credit_note_open_invoices,
    credit_note_remaining_minor,
    invoice_creditable,
)
from clientledger.billing.services import credit_notes, credit_spending
from clientledger.billing.views.common import (
    document_or_404,
    flash_error,
    posted,
    refused_unless,
    refused_unless_draft,
    to_detail,
)
from clientledger.core.forms import save_valid_form
from clientledger.core.money import format_money, from_minor, quantize, to_minor
from clientledger.core.permissions import AgencyRequest
from clientledger.lines.data import LineData, LinesInvalid

if TYPE_CHECKING:
    from clientledger.billing.kinds import DocumentKind

# Empty rows the line editor offers for free adjustment lines.
ADJUSTMENT_ROWS = 2


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor(minor, currency), currency)


def _credit_note_url(page: str) -> str:
    return f"billing:credit_note_{page}"


def credit_note_create_from_invoice(
    request: AgencyRequest, kind: DocumentKind[Any], pk: int
) -> HttpResponse:
    """The invoice page's "Credit note": a draft crediting every line not credited yet."""
    invoice: Invoice = document_or_404(request, kind, pk)
    try:
        credit_note = credit_notes.credit_note_create(
            invoice=invoice, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        flash_error(request, error)
        return to_detail(kind, invoice)
    messages.success(
        request,
        f"Draft credit note for invoice {invoice.number} created with its lines. Remove or "
        "reduce lines if only part is credited, then issue it.",
    )
    return redirect(_credit_note_url("detail"), credit_note.pk)


def credit_note_edit(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    credit_note: CreditNote = document_or_404(request, kind, pk)
    refused = refused_unless_draft(request, kind, credit_note)
    if refused is not None:
        return refused
    form = CreditNoteDetailsForm(
        posted(request),
        initial={
            "reason": credit_note.reason,
            "settlement": credit_note.settlement,
            "notes": credit_note.notes,
        },
    )
    saved = save_valid_form(
        form,
        lambda data: credit_notes.credit_note_update(
            credit_note=credit_note, actor=request.user, **data
        ),
    )
    if saved is not None:
        messages.success(request, f"Details of {credit_note} saved.")
        return to_detail(kind, credit_note)
    return render(
        request,
        "billing/credit_note_edit.html",
        {"form": form, "document": credit_note, "kind": kind.name},
    )


def _line_rows(credit_note: CreditNote) -> list[dict[str, Any]]:
    """One row per invoice line (ticked when the draft credits it, with its quantity and
    price), then the draft's free lines and empty rows for new ones."""
    kept = {line.invoice_line_id: line for line in credit_note.lines.all() if line.invoice_line_id}
    rows: list[dict[str, Any]] = []
    for original in credit_note.invoice.lines.order_by("position", "id"):
        line = kept.get(original.pk)
        source = line or original
        rows.append(
            {
                "invoice_line": original.pk,
                "keep": line is not None,
                "description": source.description,
                "quantity": source.quantity,
                "unit_price": source.unit_price,
            }
        )
    for line in credit_note.lines.all():
        if line.invoice_line_id is None:
            rows.append(
                {
                    "keep": True,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
            )
    rows += [{"keep": False} for _ in range(ADJUSTMENT_ROWS)]
    return rows


def credit_note_lines(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """Keep, remove or reduce the invoice's lines, and add free adjustment lines."""
    credit_note: CreditNote = document_or_404(request, kind, pk)
    refused = refused_unless_draft(request, kind, credit_note)
    if refused is not None:
        return refused
    formset = CreditLineFormSet(posted(request), initial=_line_rows(credit_note), prefix="line")
    if request.method == "POST" and formset.is_valid():
        chosen: list[tuple[int, credit_notes.CreditLine]] = []
        for index, row in enumerate(formset.cleaned_data):
            if not row.get("keep"):
                continue
            data = LineData(
                description=row["description"],
                quantity=row["quantity"],
                unit_price=row["unit_price"],
            )
            chosen.append((index, credit_notes.CreditLine(data, row.get("invoice_line"))))
        try:
            credit_notes.credit_note_lines_replace(
                credit_note=credit_note, actor=request.user, lines=[line for _, line in chosen]
            )
        except LinesInvalid as error:
            for (index, _), errors in zip(chosen, error.line_errors, strict=False):
                for field, message in errors.items():
                    target = field if field in formset.forms[index].fields else None
                    formset.forms[index].add_error(target, message)
            for message in error.total_errors:
                messages.error(request, message)
        except ValidationError as error:
            flash_error(request, error)
        else:
            messages.success(request, f"Lines of {credit_note} saved.")
            return to_detail(kind, credit_note)
    creditable = invoice_creditable(credit_note.invoice)
    return render(
        request,
        "billing/credit_note_lines.html",
        {
            "document": credit_note,
            "kind": kind.name,
            "formset": formset,
            "creditable_minor": creditable.total_minor,
        },
    )


def credit_note_issue(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """Issue the draft as settled on its page: the second click of a full credit."""
    credit_note: CreditNote = document_or_404(request, kind, pk)
    refused = refused_unless_draft(request, kind, credit_note)
    if refused is not None:
        return refused
    form = CreditNoteIssueForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return to_detail(kind, credit_note)
    try:
        credit_spending.credit_note_settlement_change(
            credit_note=credit_note,
            actor=request.user,
            settlement=form.cleaned_data["settlement"],
        )
        issued = credit_notes.credit_note_issue(
            credit_note=credit_note,
            actor=request.user,
            issue_date=form.cleaned_data["issue_date"],
        )
    except LinesInvalid as error:
        flash_error(request, error)
        return redirect(_credit_note_url("lines"), credit_note.pk)
    except ValidationError as error:
        flash_error(request, error)
        return to_detail(kind, credit_note)
    messages.success(
        request,
        f"Credit note {issued.number} issued on {date_format(issued.issue_date, 'M j, Y')} "
        f"for invoice {issued.invoice.number}. Send it to the client.",
    )
    return to_detail(kind, issued)


def credit_note_settle(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """Change how an issued credit note's unspent credit is settled."""
    credit_note: CreditNote = document_or_404(request, kind, pk)
    issued = credit_note.status == CreditNoteStatus.ISSUED
    refused = refused_unless(request, kind, credit_note, issued, ": issue it first")
    if refused is not None:
        return refused
    form = CreditNoteSettleForm(posted(request), initial={"settlement": credit_note.settlement})
    saved = save_valid_form(
        form,
        lambda data: credit_spending.credit_note_settlement_change(
            credit_note=credit_note, actor=request.user, settlement=data["settlement"]
        ),
    )
    if saved is not None:
        messages.success(request, f"{saved}: {saved.get_settlement_display().lower()}.")
        return to_detail(kind, credit_note)
    return render(
        request,
        "billing/credit_note_settle.html",
        {"form": form, "document": credit_note, "kind": kind.name},
    )


def credit_note_apply(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """Spend the credit on another open invoice of the client."""
    credit_note: CreditNote = document_or_404(request, kind, pk)
    remaining = credit_note_remaining_minor(credit_note)
    usable = credit_note.status == CreditNoteStatus.ISSUED and remaining > 0
    refused = refused_unless(request, kind, credit_note, usable, " with no credit left")
    if refused is not None:
        return refused
    currency = credit_note.currency
    invoices = credit_note_open_invoices(credit_note)
    choices = [
        (invoice.pk, f"{invoice.number} · {_money(invoice.balance_due_minor, currency)} due")
        for invoice in invoices
    ]
    form = CreditNoteApplyForm(posted(request), invoices=choices)

    def apply(data: dict[str, Any]) -> object:
        amount: Decimal = data["amount"]
        if quantize(amount, currency) != amount:
            raise ValidationError({"amount": f"{currency} amounts cannot have more decimals."})
        invoice = next(invoice for invoice in invoices if invoice.pk == data["invoice"])
        return credit_spending.credit_note_apply(
            agency=request.agency,
            actor=request.user,
            credit_note=credit_note,
            invoice=invoice,
            amount_minor=to_minor(amount, currency),
        )

    if save_valid_form(form, apply) is not None:
        messages.success(request, f"Credit of {credit_note} applied.")
        return to_detail(kind, credit_note)
    return render(
        request,
        "billing/credit_note_apply.html",
        {
            "form": form,
            "document": credit_note,
            "kind": kind.name,
            "remaining_minor": remaining,
            "invoices": invoices,
        },
    )
