"""Shared API pieces: input types, priced lines, decimal strings, pagination, permissions,
references and the answers to refused state changes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.text import capfirst
from ninja import Schema
from ninja.errors import HttpError
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate, UnitType
from clientledger.catalog.selectors import service_list, tax_rate_list
from clientledger.core.money import currency_digits, currency_problem, parse_decimal, plain_decimal
from clientledger.core.pagination import InvalidCursor, keyset_page
from clientledger.core.permissions import AgencyRequest
from clientledger.core.text import TextRefused, check_text
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_get, deal_get
from clientledger.lines.calculations.rules import discount_validate
from clientledger.lines.calculations.values import CalculationError
from clientledger.lines.choices import DiscountKind, Recurrence
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.lines.models import recurrence_for_unit

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Primary keys are signed 64-bit integers; a larger id would overflow the database driver.
MAX_ID = 2**63 - 1
MAX_LINES = 500
LINE_FIELD_NAMES = {"service": "service_id", "taxes": "tax_rate_ids"}
# Service errors with these codes refuse a change of state, not the input: 409, not 422.
CONFLICT_CODES = frozenset({"not_draft", "invalid_transition"})
DECIMAL_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

M = TypeVar("M", bound=models.Model)
S = TypeVar("S", bound="Schema")
T = TypeVar("T")


# --- input types -----------------------------------------------------------------------


class StrictSchema(Schema):
    """Request bodies take JSON values as they are typed, never converted: "30" is no number,
    30.0 no id, 0 no boolean and no date. Unknown keys are refused, so a typo ("unit_prise") is
    an error, not a no-op."""

    model_config = ConfigDict(extra="forbid", strict=True)


# The example lets schema-driven clients and fuzzers start from a real row. It is "example", not
# "examples": django-ninja copies a list of examples onto path parameters, where OpenAPI expects
# a map of example objects.
RowId = Annotated[int, Field(ge=1, le=MAX_ID, json_schema_extra={"example": 1})]

# JSON has no enum type: a choice arrives as one of its string values, which lax validation
# matches exactly (a number, a boolean or another spelling is still refused).
ChoiceValue = Strict(False)


def _iso_date(value: object) -> dt.date:
    """JSON has no date type either: a date is a string "YYYY-MM-DD" and nothing else (not a
    Unix timestamp, which pydantic would read into 1970, nor a date-time)."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_type", 'Enter a date as "YYYY-MM-DD".')
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_value", "This date does not exist.") from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


@dataclass(frozen=True)
class Text:
    """String metadata: stripped, at most `max_length` characters, not blank if `required`,
    and only the characters core.text allows (line breaks and tabs when `multiline`).

    One validator gives every text field the same messages (pydantic's own length check
    would run before stripping and word its errors differently).
    """

    max_length: int
    required: bool = False
    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.clean, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_length
        if self.required:
            json_schema["minLength"] = 1
        return json_schema

    def clean(self, value: str) -> str:
        try:
            value = check_text(value.strip(), multiline=self.multiline)
        except TextRefused as refused:
            raise PydanticCustomError("text_characters", str(refused)) from None
        if self.required and not value:
            raise PydanticCustomError("blank", "This field cannot be blank.")
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "text_too_long",
                "Use at most {max_length} characters.",
                {"max_length": self.max_length},
            )
        return value


LongText = Annotated[str, Text(10_000, multiline=True)]
SearchText = Annotated[str, Text(200)]


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise PydanticCustomError("email", "Enter a valid email address.") from None
    return value


Email = Annotated[str, Text(254), AfterValidator(_email), Field(examples=["billing@example.com"])]


def _currency(value: str) -> str:
    code = value.strip().upper()
    problem = currency_problem(code)
    if problem is not None:
        raise PydanticCustomError("currency", "{problem}", {"problem": problem})
    return code


Currency = Annotated[str, AfterValidator(_currency), Field(examples=["USD"])]


@dataclass(frozen=True)
class DecimalInput:
    """Decimal metadata: a decimal string or an integer within bounds; never a float."""

    minimum: Decimal
    minimum_allowed: bool
    message: str
    maximum: Decimal | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "anyOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "integer"}],
            "description": f"A decimal string (or an integer). {self.message}",
            "examples": ["12.50"],
        }

    def parse(self, value: object) -> Decimal:
        # JSON numbers with a fraction arrive as binary floats, which cannot hold most
        # amounts exactly: only strings and integers (not booleans) are accepted.
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise PydanticCustomError(
                "decimal_type",
                'Use a decimal string such as "12.50"; JSON numbers with a fraction are '
                "not accepted.",
            )
        try:
            number = parse_decimal(value, field="value")
        except ValueError:
            raise PydanticCustomError(
                "decimal_parsing", 'Enter a number as a decimal string such as "12.50".'
            ) from None
        too_small = number < self.minimum or (number == self.minimum and not self.minimum_allowed)
        if too_small or (self.maximum is not None and number > self.maximum):
            raise PydanticCustomError("decimal_range", self.message)
        return number


Price = Annotated[
    Decimal, DecimalInput(Decimal(0), minimum_allowed=True, message="Must not be negative.")
]
Quantity = Annotated[
    Decimal,
    DecimalInput(Decimal(0), minimum_allowed=False, message="Must be greater than zero."),
]
Percent = Annotated[
    Decimal,
    DecimalInput(
        Decimal(0), minimum_allowed=True, maximum=Decimal(100), message="Must be between 0 and 100."
    ),
]


def partial_update(schema: type[S]) -> type[S]:
    """Class decorator for PATCH bodies: every field of the base schema becomes optional.

    Read the body with `model_dump(exclude_unset=True)`. Field types stay as they are, so an
    explicit null for a non-nullable field is refused while an omitted field is left alone.
    """
    fields: dict[str, Any] = {
        field_name: (
            info.annotation,
            FieldInfo.merge_field_infos(info, default=None, default_factory=None),
        )
        for field_name, info in schema.model_fields.items()
    }
    return create_model(schema.__name__, __base__=schema, __module__=schema.__module__, **fields)


# --- priced lines (deals, estimates, invoices) -----------------------------------------


class LineIn(StrictSchema):
    description: Annotated[str, Text(500, required=True)]
    quantity: Quantity
    unit_price: Price
    unit: Annotated[UnitType, ChoiceValue] = UnitType.HOUR
    service_id: RowId | None = Field(None, description="An active service of your catalog.")
    discount_kind: Annotated[DiscountKind, ChoiceValue] | Literal[""] = ""
    discount_value: Price = Field(
        Decimal(0),
        description="A percentage (0-100) or a non-negative amount, per `discount_kind`.",
        examples=["0"],
    )
    tax_rate_ids: list[RowId] = Field(
        default_factory=list,
        max_length=2,
        description="Up to two tax rates; a compound tax can only be the second.",
    )
    recurrence: Annotated[Recurrence, ChoiceValue] | None = Field(
        None, description="Left out: monthly for the `month` unit, otherwise one-off."
    )

    @field_validator("discount_value")
    @classmethod
    def _discount_fits_its_kind(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        kind = info.data.get("discount_kind")
        if kind is None:
            return value  # the kind itself was refused, with its own message
        try:
            discount_validate(kind or None, value)
        except CalculationError as error:
            raise PydanticCustomError(error.code, f"{capfirst(error.message)}.") from None
        return value


class LinesIn(StrictSchema):
    lines: list[LineIn] = Field(max_length=MAX_LINES)


def line_errors_flat(line_errors: list[dict[str, str]]) -> dict[str, str]:
    """Per-line errors under the API's names: `{"lines[2].tax_rate_ids": "..."}`."""
    return {
        f"lines[{index}].{LINE_FIELD_NAMES.get(name, name)}": message
        for index, errors in enumerate(line_errors)
        for name, message in errors.items()
    }


def lines_data(*, agency: Agency, lines: list[LineIn]) -> list[LineData]:
    """The lines with their service and tax rows, two queries for any number of lines."""
    service_ids = {line.service_id for line in lines if line.service_id is not None}
    services = (
        {s.pk: s for s in service_list(agency=agency, status="all").filter(pk__in=service_ids)}
        if service_ids
        else {}
    )
    taxes = agency_tax_rates(agency=agency, ids={pk for line in lines for pk in line.tax_rate_ids})
    errors: list[dict[str, str]] = []
    for line in lines:
        line_errors = {}
        if line.service_id is not None and line.service_id not in services:
            line_errors["service_id"] = "Choose a service of your agency."
        if any(pk not in taxes for pk in line.tax_rate_ids):
            line_errors["tax_rate_ids"] = "Choose tax rates of your agency."
        errors.append(line_errors)
    if any(errors):
        raise ValidationError(line_errors_flat(errors))
    return [
        LineData(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            service=services.get(line.service_id) if line.service_id is not None else None,
            discount_kind=line.discount_kind,
            discount_value=line.discount_value,
            taxes=[taxes[pk] for pk in line.tax_rate_ids],
            recurrence=line.recurrence or recurrence_for_unit(line.unit),
        )
        for line in lines
    ]


@contextmanager
def api_line_errors() -> Iterator[None]:
    """Report a line service's per-line errors under the API's names."""
    try:
        yield
    except LinesInvalid as exc:
        total_errors = {"lines": " ".join(exc.total_errors)} if exc.total_errors else {}
        raise ValidationError(line_errors_flat(exc.line_errors) | total_errors) from exc


# --- output types ----------------------------------------------------------------------

DecimalStr = Annotated[
    str, WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1250.00"]})
]


def money_str(amount: Decimal, currency: str) -> str:
    """At least the currency's digits ("120.00"), more only when they carry value ("0.1234")."""
    return plain_decimal(amount, currency_digits(currency))


def discount_str(kind: str, value: Decimal, currency: str) -> str:
    """A line's discount: a plain percentage ("12.5") or an amount in the currency ("10.00")."""
    return plain_decimal(value) if kind == DiscountKind.PERCENT else money_str(value, currency)


class Message(Schema):
    detail: str


class FieldError(Schema):
    field: str = Field(description='Dotted path of the input, e.g. "lines[2].quantity".')
    message: str


class ValidationErrors(Schema):
    detail: list[FieldError]


def responses(success: Mapping[int, Any]) -> dict[int, Any]:
    """The documented answers of an operation: its success plus the shared error shapes."""
    return {
        **success,
        400: Message,
        401: Message,
        403: Message,
        404: Message,
        409: Message,
        422: ValidationErrors,
        500: Message,
    }


# --- permissions and references ----------------------------------------------------------


def require(request: AgencyRequest, perm: str) -> Agency:
    """The caller's agency, if their role grants `perm` (PermissionDenied answers 403)."""
    if not request.membership.allows(perm):
        raise PermissionDenied(f"Your role does not allow this ({perm}).")
    return request.agency


def agency_tax_rates(*, agency: Agency, ids: Iterable[int]) -> dict[int, TaxRate]:
    """The agency's tax rates among `ids`, in one query; other agencies' ids are absent."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {rate.pk: rate for rate in tax_rate_list(agency=agency).filter(pk__in=wanted)}


def agency_client(*, agency: Agency, pk: int) -> Client:
    """The agency's client `pk`; any other id is bad input naming `client_id` (422)."""
    try:
        return client_get(agency=agency, pk=pk)
    except Client.DoesNotExist:
        raise ValidationError({"client_id": "Choose a client of your agency."}) from None


def agency_deal(*, agency: Agency, pk: int, field: str = "deal_id") -> Deal:
    """The agency's deal `pk` with its client and lines; any other id is a 422 on `field`."""
    try:
        return deal_get(agency=agency, pk=pk)
    except Deal.DoesNotExist:
        raise ValidationError({field: "Choose a deal of your agency."}) from None


@contextmanager
def state_conflicts() -> Iterator[None]:
    """A change the record's state refuses (editing an issued invoice, converting twice)
    answers 409 with the service's message; every other service error stays a 422."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict") and any(
            error.code in CONFLICT_CODES for error in exc.error_list
        ):
            raise HttpError(409, " ".join(exc.messages)) from exc
        raise


@contextmanager
def api_field_names(names: Mapping[str, str]) -> Iterator[None]:
    """Report service errors under the API's field names (`client` -> `client_id`)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc


# --- pagination ------------------------------------------------------------------------


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    after: str | None = Field(None, max_length=2000, description="`next_cursor` of a page.")
    before: str | None = Field(None, max_length=2000, description="`previous_cursor` of a page.")


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None


def paginate(
    rows: models.QuerySet[M],
    *,
    ordering: tuple[str, ...],
    params: PageParams,
    render: Callable[[list[M]], list[Any]],
) -> dict[str, Any]:
    """One keyset page of `rows`; `render` turns the page's rows into response items."""
    if params.after and params.before:
        raise ValidationError({"before": "Send either after or before, not both."})
    field = "before" if params.before else "after"
    try:
        page = keyset_page(
            rows,
            ordering=ordering,
            after=params.after,
            before=params.before,
            per_page=params.limit,
        )
    except InvalidCursor:
        raise ValidationError({field: "This is not a valid page cursor."}) from None
    return {
        "items": render(page.items),
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }
