"""The type of every audit verb. Each app declares the verbs it records as `AuditVerb`
subclasses in its own `audit_verbs` module, one enum per entity, e.g.

    class InvoiceVerb(AuditVerb):
        CREATED = "invoice.created", Phrase.ACTION_FIRST
        ISSUED = "invoice.issued"

A member names its stored value ("<entity>.<action>", the string existing rows hold), how the
trail tells it (`Phrase`, the verb's words unless named) and who acts when no person does
(`Party`, the system unless named). `audit_record` takes members only, so grepping for
`InvoiceVerb.ISSUED` finds every producer, and the member's line says how it reads.

core imports no app: `CoreConfig.ready()` imports every app's `audit_verbs` module, and each
enum registers itself when it is defined, so a page can read any stored verb back.
"""

from __future__ import annotations

from enum import Enum, StrEnum, auto
from typing import Any, Self


class Phrase(Enum):
    """How the trail tells an event about a subject, e.g. client “Acme”."""

    # The verb's words before the subject's name: "payment recorded “Acme”".
    VERB_WORDS = auto()
    # The action, a past tense, before the subject: "created client “Acme”".
    ACTION_FIRST = auto()
    # "moved deal “Relaunch” from Lead to Proposal", from the stages in the event's data.
    STAGE_MOVE = auto()
    # "saved the lines of deal “Relaunch” (3 lines)", from the count in the event's data.
    LINES_SAVED = auto()


class Party(StrEnum):
    """Who the trail says acted when no person did; the value is the name it shows."""

    SYSTEM = "System"
    # The client, through the portal, without an account; shown under the name it signed
    # with when the event carries one (an approval's data["name"]).
    CLIENT = "The client"
    # What Stripe reports through its events.
    STRIPE = "Stripe"


_VERB_TYPES: list[type[AuditVerb]] = []


class AuditVerb(StrEnum):
    """Base of every app's verb enum; its members are the only verbs the trail records."""

    phrase: Phrase
    party: Party

    def __new__(
        cls, value: str, phrase: Phrase = Phrase.VERB_WORDS, party: Party = Party.SYSTEM
    ) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.phrase = phrase
        member.party = party
        return member

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _VERB_TYPES.append(cls)


def audit_verb_types() -> list[type[AuditVerb]]:
    """Every app's verb enums (all are defined once Django has started)."""
    return list(_VERB_TYPES)


def audit_verb(value: str) -> AuditVerb | None:
    """The member a stored verb is, or None for a verb no app records any more."""
    for verb_type in _VERB_TYPES:
        member = verb_type._value2member_map_.get(value)
        if isinstance(member, AuditVerb):
            return member
    return None
