from __future__ import annotations

import re
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from clientledger.accounts.roles import Role, role_allows
from clientledger.core import clock
from clientledger.core.money import currency_problem

HEX_COLOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour as #RRGGBB, e.g. #1F6FEB.")
NUMBER_FORMAT = re.compile(r"^[A-Za-z0-9_\-/. ]*(\{(YYYY|YY|MM|SEQ(:0?\d)?)\}[A-Za-z0-9_\-/. ]*)+$")


def validate_currency(value: str) -> None:
    problem = currency_problem(value)
    if problem is not None:
        raise ValidationError(problem)


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/Berlin).")


def _timezones() -> set[str]:
    return available_timezones()


def validate_number_format(value: str) -> None:
    if "{SEQ" not in value or not NUMBER_FORMAT.match(value):
        raise ValidationError(
            "Use letters, digits, - / _ . and the placeholders {YYYY}, {YY}, {MM} and "
            "{SEQ} or {SEQ:05}; {SEQ} is required."
        )


class TaxRounding(models.TextChoices):
    LINE = "line", "Round each line"
    DOCUMENT = "document", "Round once per document"


class Agency(models.Model):
    """The tenant. Every business row carries its agency."""

    name = models.CharField(max_length=200)
    legal_address = models.TextField(blank=True)
    tax_id = models.CharField("tax ID", max_length=64, blank=True)
    logo = models.ImageField(upload_to="logos/", blank=True)
    brand_color = models.CharField(max_length=7, default="#1F6FEB", validators=[HEX_COLOR])
    default_currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    default_payment_terms_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(365)]
    )
    tax_rounding = models.CharField(
        max_length=10, choices=TaxRounding.choices, default=TaxRounding.LINE
    )
    estimate_number_format = models.CharField(
        max_length=40, default="EST-{YYYY}-{SEQ:05}", validators=[validate_number_format]
    )
    invoice_number_format = models.CharField(
        max_length=40, default="INV-{YYYY}-{SEQ:05}", validators=[validate_number_format]
    )
    credit_note_number_format = models.CharField(
        max_length=40, default="CN-{YYYY}-{SEQ:05}", validators=[validate_number_format]
    )
    estimate_validity_days = models.PositiveSmallIntegerField(
        "estimates valid for (days)", default=30, validators=[MaxValueValidator(365)]
    )
    auto_convert_approved_estimates = models.BooleanField(
        "convert approved estimates to invoices automatically", default=False
    )
    approval_wins_deal = models.BooleanField(
        "move the deal to Won when the client approves its estimate", default=True
    )
    apply_credit_to_retainers = models.BooleanField(
        "apply client credit to new retainer invoices automatically", default=False
    )
    payment_instructions = models.TextField(
        blank=True, help_text="Printed on invoices, e.g. bank account details."
    )
    document_footer = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self) -> Agency:
        """The agency whose trail records a change of this row (`core.services`): itself."""
        return self


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("email: is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=clock.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email


class Membership(models.Model):
    """A person's seat in an agency. One agency per person keeps every query single-tenant."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.agency}"

    def allows(self, perm: str) -> bool:
        return role_allows(self.role, perm)


class Invitation(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None and self.revoked_at is None and self.expires_at > clock.now()
        )


class ApiToken(models.Model):
    """A personal bearer token. Only its SHA-256 is stored; the key is shown once."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


PAYMENT_TERMS_VALIDATORS = [MinValueValidator(0), MaxValueValidator(365)]
