"""Shared API pieces: input types, decimal strings, pagination, permissions, references."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import models
from ninja import Schema
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate
from clientledger.catalog.selectors import tax_rate_list
from clientledger.core.money import currency_digits, is_known_currency, parse_decimal, plain_decimal
from clientledger.core.pagination import InvalidCursor, keyset_page
from clientledger.core.permissions import AgencyRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Primary keys are signed 64-bit integers; a larger id would overflow the database driver.
MAX_ID = 2**63 - 1
DECIMAL_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"

M = TypeVar("M", bound=models.Model)
S = TypeVar("S", bound="Schema")
T = TypeVar("T")


# --- input types -----------------------------------------------------------------------


class StrictSchema(Schema):
    """Request bodies refuse unknown keys, so a typo ("unit_prise") is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class Text:
    """String metadata: stripped, at most `max_length` characters, not blank if `required`.

    One validator gives every text field the same messages (pydantic's own length check
    would run before stripping and word its errors differently).
    """

    max_length: int
    required: bool = False

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
        # PostgreSQL refuses NUL in text columns; say so instead of failing on insert.
        if "\x00" in value:
            raise PydanticCustomError("text_nul", "Remove the NUL character.")
        value = value.strip()
        if self.required and not value:
            raise PydanticCustomError("blank", "This field cannot be blank.")
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "text_too_long",
                "Use at most {max_length} characters.",
                {"max_length": self.max_length},
            )
        return value


LongText = Annotated[str, Text(10_000)]
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
    if not is_known_currency(code):
        raise PydanticCustomError(
            "currency", "“{code}” is not an ISO 4217 currency code.", {"code": value}
        )
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


# --- output types ----------------------------------------------------------------------

DecimalStr = Annotated[
    str, WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1250.00"]})
]


def money_str(amount: Decimal, currency: str) -> str:
    """At least the currency's digits ("120.00"), more only when they carry value ("0.1234")."""
    return plain_decimal(amount, currency_digits(currency))


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
