"""Clients and their contacts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Query, Router

from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.inputs import (
    Currency,
    Email,
    LongText,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.outputs import DecimalStr, Output, money_str, responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.core.money import from_minor
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.models import Client, Contact
from clientledger.crm.selectors import CLIENT_ORDERING, client_contacts, client_get, client_list
from clientledger.crm.services import (
    client_create,
    client_delete,
    client_update,
    contact_create,
    contact_delete,
    contact_update,
)

router = Router(tags=["clients"])

CONTACT_ORDERING = ("-is_billing_contact", "name", "id")


class ClientIn(StrictSchema):
    name: Annotated[str, Text(200, required=True)]
    billing_email: Email = ""
    address_line1: Annotated[str, Text(200)] = ""
    address_line2: Annotated[str, Text(200)] = ""
    city: Annotated[str, Text(100)] = ""
    postal_code: Annotated[str, Text(20)] = ""
    region: Annotated[str, Text(100)] = ""
    country: Annotated[str, Text(100)] = ""
    currency: Currency | None = Field(
        None, description="ISO 4217 code; the agency's when omitted or null."
    )
    tax_id: Annotated[str, Text(64)] = ""
    tax_exempt: bool = False
    payment_terms_days: int | None = Field(
        None, ge=0, le=365, description="Days to pay; null uses the agency's default terms."
    )
    notes: LongText = ""


@partial_update
class ClientPatch(ClientIn):
    """Only the fields sent are changed."""


class ClientOut(Output):
    id: int
    name: str
    billing_email: str
    address_line1: str
    address_line2: str
    city: str
    postal_code: str
    region: str
    country: str
    currency: str
    tax_id: str
    tax_exempt: bool
    payment_terms_days: int | None
    notes: str
    balance: DecimalStr = Field(description="Outstanding balance in the client's currency.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, client: Client) -> ClientOut:
        return cls(
            id=client.pk,
            name=client.name,
            billing_email=client.billing_email,
            address_line1=client.address_line1,
            address_line2=client.address_line2,
            city=client.city,
            postal_code=client.postal_code,
            region=client.region,
            country=client.country,
            currency=client.currency,
            tax_id=client.tax_id,
            tax_exempt=client.tax_exempt,
            payment_terms_days=client.payment_terms_days,
            notes=client.notes,
            balance=money_str(from_minor(client.balance_minor, client.currency), client.currency),
            created_at=client.created_at,
            updated_at=client.updated_at,
        )


class ClientFilters(PageParams):
    q: SearchText = Field("", description="Name, billing email, or a contact's name or email.")
    currency: Currency | None = None


class ContactIn(StrictSchema):
    name: Annotated[str, Text(150, required=True)]
    email: Email = ""
    phone: Annotated[str, Text(40)] = ""
    job_title: Annotated[str, Text(100)] = ""
    is_billing_contact: bool = Field(
        False, description="Receives the client's invoices; only one contact per client."
    )


@partial_update
class ContactPatch(ContactIn):
    """Only the fields sent are changed."""


class ContactOut(Output):
    id: int
    client_id: int
    name: str
    email: str
    phone: str
    job_title: str
    is_billing_contact: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=contact.pk,
            client_id=contact.client_id,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            job_title=contact.job_title,
            is_billing_contact=contact.is_billing_contact,
            created_at=contact.created_at,
        )


@router.get("", response=responses({200: Page[ClientOut]}), summary="List clients")
def list_clients(request: AgencyRequest, filters: Query[ClientFilters]) -> Page[ClientOut]:
    agency = require(request, Perm.VIEW)
    rows = client_list(agency=agency, search=filters.q, currency=filters.currency or "")
    return paginate(
        rows,
        ordering=CLIENT_ORDERING,
        params=filters,
        item=ClientOut,
        render=lambda page: [ClientOut.of(c) for c in page],
    )


@router.post("", response=responses({201: ClientOut}), summary="Create a client")
def create_client(request: AgencyRequest, payload: ClientIn) -> tuple[int, ClientOut]:
    agency = require(request, Perm.CRM_EDIT)
    data = payload.model_dump(exclude_none=True)
    return 201, ClientOut.of(client_create(agency=agency, actor=request.user, **data))


@router.get("/{client_id}", response=responses({200: ClientOut}), summary="Get a client")
def get_client(request: AgencyRequest, client_id: RowId) -> ClientOut:
    agency = require(request, Perm.VIEW)
    return ClientOut.of(client_get(agency=agency, pk=client_id))


@router.patch("/{client_id}", response=responses({200: ClientOut}), summary="Update a client")
def update_client(request: AgencyRequest, client_id: RowId, payload: ClientPatch) -> ClientOut:
    agency = require(request, Perm.CRM_EDIT)
    client = client_get(agency=agency, pk=client_id)
    data = payload.model_dump(exclude_unset=True)
    return ClientOut.of(client_update(client=client, actor=request.user, **data))


@router.delete("/{client_id}", response=responses({204: None}), summary="Delete a client")
def delete_client(request: AgencyRequest, client_id: RowId) -> tuple[int, None]:
    agency = require(request, Perm.CRM_DELETE)
    client_delete(client=client_get(agency=agency, pk=client_id), actor=request.user)
    return 204, None


def _contact(request: AgencyRequest, perm: str, client_id: int, contact_id: int) -> Contact:
    agency = require(request, perm)
    client = client_get(agency=agency, pk=client_id)
    return client_contacts(client=client).get(pk=contact_id)


@router.get(
    "/{client_id}/contacts",
    response=responses({200: Page[ContactOut]}),
    summary="List a client's contacts",
)
def list_contacts(
    request: AgencyRequest, client_id: RowId, params: Query[PageParams]
) -> Page[ContactOut]:
    agency = require(request, Perm.VIEW)
    rows = client_contacts(client=client_get(agency=agency, pk=client_id))
    return paginate(
        rows,
        ordering=CONTACT_ORDERING,
        params=params,
        item=ContactOut,
        render=lambda page: [ContactOut.of(c) for c in page],
    )


@router.post(
    "/{client_id}/contacts", response=responses({201: ContactOut}), summary="Add a contact"
)
def create_contact(
    request: AgencyRequest, client_id: RowId, payload: ContactIn
) -> tuple[int, ContactOut]:
    agency = require(request, Perm.CRM_EDIT)
    client = client_get(agency=agency, pk=client_id)
    contact = contact_create(client=client, actor=request.user, **payload.model_dump())
    return 201, ContactOut.of(contact)


@router.get(
    "/{client_id}/contacts/{contact_id}",
    response=responses({200: ContactOut}),
    summary="Get a contact",
)
def get_contact(request: AgencyRequest, client_id: RowId, contact_id: RowId) -> ContactOut:
    return ContactOut.of(_contact(request, Perm.VIEW, client_id, contact_id))


@router.patch(
    "/{client_id}/contacts/{contact_id}",
    response=responses({200: ContactOut}),
    summary="Update a contact",
)
def update_contact(
    request: AgencyRequest, client_id: RowId, contact_id: RowId, payload: ContactPatch
) -> ContactOut:
    contact = _contact(request, Perm.CRM_EDIT, client_id, contact_id)
    data = payload.model_dump(exclude_unset=True)
    return ContactOut.of(contact_update(contact=contact, actor=request.user, **data))


@router.delete(
    "/{client_id}/contacts/{contact_id}",
    response=responses({204: None}),
    summary="Delete a contact",
)
def delete_contact(request: AgencyRequest, client_id: RowId, contact_id: RowId) -> tuple[int, None]:
    contact = _contact(request, Perm.CRM_DELETE, client_id, contact_id)
    contact_delete(contact=contact, actor=request.user)
    return 204, None
