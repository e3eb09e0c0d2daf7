from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client as HttpClient
from django.urls import reverse
from PIL import Image
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.number_formats import format_number
from clientledger.billing.documents.build import document_pdf
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.core import clock
from clientledger.core.models import AuditEvent
from clientledger.lines.data import LineData
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def settings_data(agency: Agency, **changes: Any) -> dict[str, Any]:
    data = model_to_dict(agency, exclude=["id", "logo", "created_at"])
    return {**data, **changes}


def posted_settings(agency: Agency, leave_out: str = "") -> dict[str, Any]:
    """The settings form as the browser posts it for `agency` (empty fields left out)."""
    return {
        key: value
        for key, value in model_to_dict(agency).items()
        if key not in ("id", "logo", "created_at", leave_out) and value is not None
    }


def image_bytes(kind: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize("persona", ["finance", "sales", "viewer"])
def test_only_owners_and_admins_open_the_settings(
    persona: str, request: pytest.FixtureRequest, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(request.getfixturevalue(persona))

    page = http.get(reverse("accounts:agency_settings"))
    saved = http.post(reverse("accounts:agency_settings"), {"name": "Taken over"})

    assert (page.status_code, saved.status_code) == (403, 403)
    assert Agency.objects.get().name == "Northwind Studio"


def test_the_settings_page_previews_the_next_document_numbers(
    admin: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(admin).get(reverse("accounts:agency_settings"))

    year = clock.local_today(admin.agency.timezone).year
    assert response.status_code == 200
    assert f"INV-{year}-00001" in response.context["previews"]["invoice_number_format"]
    assert f"CN-{year}-00001" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("brand_color", "red"),
        ("default_currency", "XYZ"),
        ("timezone", "Mars/Olympus_Mons"),
        ("invoice_number_format", "INV-{YYYY}"),
        ("estimate_number_format", "EST-<script>-{SEQ}"),
        ("default_payment_terms_days", "400"),
        ("name", ""),
    ],
)
def test_a_bad_setting_is_shown_inline_and_nothing_is_saved(
    field: str, value: str, owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    before = model_to_dict(Agency.objects.get(pk=agency.pk))

    response = login(owner).post(
        reverse("accounts:agency_settings"), settings_data(agency, **{field: value, "tax_id": "X1"})
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert model_to_dict(Agency.objects.get(pk=agency.pk)) == before
    assert not AuditEvent.objects.filter(verb="agency.updated").exists()


def test_valid_settings_are_saved_and_audited(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    data = settings_data(
        agency,
        name="Northwind & Co",
        brand_color="#AA3366",
        default_currency="EUR",
        timezone="America/New_York",
        invoice_number_format="F-{YY}{MM}-{SEQ:4}",
    )

    response = login(owner).post(reverse("accounts:agency_settings"), data)

    assert response.status_code == 302
    agency.refresh_from_db()
    assert (agency.name, agency.brand_color, agency.default_currency, agency.timezone) == (
        "Northwind & Co",
        "#AA3366",
        "EUR",
        "America/New_York",
    )
    assert agency.invoice_number_format == "F-{YY}{MM}-{SEQ:4}"
    event = AuditEvent.objects.get(verb="agency.updated")
    assert event.data["changes"]["default_currency"] == {"from": "USD", "to": "EUR"}


def test_a_png_logo_is_stored(
    owner: Membership, login: Callable[[Membership], HttpClient], media_root: Path
) -> None:
    data = settings_data(owner.agency, logo=io.BytesIO(image_bytes("PNG")))
    data["logo"].name = "logo.png"

    response = login(owner).post(reverse("accounts:agency_settings"), data)

    assert response.status_code == 302
    owner.agency.refresh_from_db()
    assert owner.agency.logo.name is not None
    assert owner.agency.logo.name.startswith("logos/")
    assert (media_root / owner.agency.logo.name).exists()


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("logo.bmp", image_bytes("BMP"), "Upload the logo as a PNG, JPEG, GIF or WebP image."),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "Upload a valid image.",
        ),
        ("logo.png", image_bytes("PNG", (1400, 1400)) + b"\0" * 1024 * 1024, "at most 1 MB"),
    ],
)
def test_a_logo_must_be_a_small_png_jpeg_gif_or_webp(
    name: str,
    content: bytes,
    error: str,
    owner: Membership,
    login: Callable[[Membership], HttpClient],
) -> None:
    upload = io.BytesIO(content)
    upload.name = name

    response = login(owner).post(
        reverse("accounts:agency_settings"), settings_data(owner.agency, logo=upload)
    )

    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors["logo"])
    owner.agency.refresh_from_db()
    assert not owner.agency.logo


def test_the_live_preview_renders_a_typed_format(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)

    valid = http.get(reverse("accounts:number_preview"), {"invoice_number_format": "A-{SEQ:3}"})
    invalid = http.get(reverse("accounts:number_preview"), {"invoice_number_format": "A-{YY}"})

    assert valid.content.decode().strip() == "The first number of a series looks like A-001."
    assert "{SEQ} is required" in invalid.content.decode()


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [
        ("INV-{YYYY}-{SEQ:05}", "INV-2026-00042"),
        ("{YY}{MM}/{SEQ}", "2603/42"),
        ("CN {SEQ:5}", "CN 00042"),
        ("E-{SEQ:1}", "E-42"),
    ],
)
def test_number_preview_fills_every_placeholder(number_format: str, expected: str) -> None:
    assert format_number(number_format, on=dt.date(2026, 3, 9), sequence=42) == expected


def test_estimate_and_invoice_defaults_are_saved_from_the_settings_page(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    data = posted_settings(agency)
    data |= {
        "estimate_validity_days": "14",
        "auto_convert_approved_estimates": "on",
        "payment_instructions": "IBAN DE00 1234",
        "document_footer": "Northwind Studio GmbH",
    }
    response = login(owner).post(reverse("accounts:agency_settings"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agency.refresh_from_db()
    assert (agency.estimate_validity_days, agency.auto_convert_approved_estimates) == (14, True)
    assert (agency.payment_instructions, agency.document_footer) == (
        "IBAN DE00 1234",
        "Northwind Studio GmbH",
    )


def upload_logo(owner: Membership, http: HttpClient, name: str, content: bytes) -> Any:
    upload = io.BytesIO(content)
    upload.name = name
    return http.post(reverse("accounts:agency_settings"), settings_data(owner.agency, logo=upload))


@pytest.mark.parametrize(
    ("name", "kind", "suffix"),
    [
        ("logo.gif", "PNG", ".png"),
        ("logo.pdf", "PNG", ".png"),
        ("logo.png", "JPEG", ".jpg"),
        ("LOGO.JPEG", "JPEG", ".jpg"),
        ("logo.png", "GIF", ".gif"),
        ("logo.jpg", "WEBP", ".webp"),
    ],
)
def test_a_logo_is_stored_under_the_suffix_of_its_real_content(
    owner: Membership,
    login: Callable[[Membership], HttpClient],
    media_root: Path,
    name: str,
    kind: str,
    suffix: str,
) -> None:
    response = upload_logo(owner, login(owner), name, image_bytes(kind))

    assert response.status_code == 302
    owner.agency.refresh_from_db()
    assert owner.agency.logo.name is not None
    stored = Path(owner.agency.logo.name)
    assert stored.suffix == suffix
    assert Image.open(media_root / stored).format == kind


def test_invoices_still_render_after_a_png_was_uploaded_as_gif(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    upload_logo(owner, login(owner), "logo.gif", image_bytes("PNG", (120, 40)))
    invoice = invoice_create(
        agency=owner.agency,
        actor=None,
        client=ClientFactory(agency=owner.agency),
        lines=[LineData(description="Design", quantity=Decimal(1), unit_price=Decimal(100))],
    )

    pdf = document_pdf(invoice_issue(invoice=invoice, actor=None))

    assert re.search(rb"/Subtype\s*/Image", pdf)
    assert re.search(rb"/Width\s+120", pdf)


def test_winning_deals_on_approval_can_be_turned_off_in_the_settings(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    agency = owner.agency
    # An unticked checkbox is left out of the posted form.
    data = posted_settings(agency, leave_out="approval_wins_deal")
    page = login(owner).get(reverse("accounts:agency_settings")).content.decode()

    response = login(owner).post(reverse("accounts:agency_settings"), data)

    assert "Move the deal to Won when the client approves its estimate" in page
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.approval_wins_deal is False
    assert AuditEvent.objects.get(verb="agency.updated").data["changes"]["approval_wins_deal"] == {
        "from": True,
        "to": False,
    }
