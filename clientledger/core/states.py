"""The one transition check of every lifecycle (invoices, estimates, payments, refunds): each
app declares its table of allowed moves next to its models and checks every change here."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from clientledger.core.error_codes import ErrorCode

# From each status, the statuses it may become.
TransitionTable = dict[str, frozenset[str]]


def transition_check(table: TransitionTable, noun: str, current: str, target: str) -> None:
    """Refuse (code "invalid_transition") a move the table does not allow, e.g. "An open
    invoice cannot become draft." """
    if target not in table.get(current, frozenset()):
        was, becomes = current.replace("_", " "), target.replace("_", " ")
        article = "An" if was[:1] in "aeiou" else "A"
        raise ValidationError(
            f"{article} {was} {noun} cannot become {becomes}.", code=ErrorCode.INVALID_TRANSITION
        )
