"""The demo agency: its settings, team, tax rates, catalog, and how its documents, payments
and credit notes are dated and sized."""

from __future__ import annotations

from decimal import Decimal

from clientledger.accounts.roles import Role
from clientledger.billing.models import CreditSettlement
from clientledger.catalog.models import UnitType
from clientledger.demo.data.seeds import CreditNoteSeed, ServiceSeed
from clientledger.payments.models import PaymentMethod

AGENCY_NAME = "Brightside Digital"
OWNER_EMAIL = "owner@brightside.example"
OWNER_NAME = "Olivia Owner"
DEMO_PASSWORD = "ledger-demo-2026"

AGENCY_SETTINGS = {
    "legal_address": (
        "Brightside Digital LLC\n148 Lafayette Street, 5th Floor\nNew York, NY 10013\nUnited States"
    ),
    "tax_id": "EIN 84-2917365",
    "brand_color": "#F97316",
    "default_currency": "USD",
    "timezone": "America/New_York",
    "default_payment_terms_days": 30,
    "payment_instructions": (
        "Pay by ACH or wire transfer to Brightside Digital LLC, First Harbor Bank, "
        "routing 021000089, account 4410 2290 7731.\nPlease quote the invoice number."
    ),
}

TEAMMATES: dict[str, tuple[str, str]] = {
    Role.ADMIN: ("admin@brightside.example", "Aisha Patel"),
    Role.FINANCE: ("finance@brightside.example", "Frank Moreno"),
    Role.SALES: ("sales@brightside.example", "Sam Rivera"),
    Role.VIEWER: ("viewer@brightside.example", "Vera Lindqvist"),
}
DEMO_EMAILS = (OWNER_EMAIL, *(email for email, _ in TEAMMATES.values()))

SALES_TAX = "Sales tax 8.875%"
VAT = "VAT 20%"
TAX_RATES: tuple[tuple[str, Decimal], ...] = (
    (SALES_TAX, Decimal("8.875")),
    (VAT, Decimal("20")),
)

# Catalog prices are in USD; EUR and GBP clients are quoted in their own currency at these
# rates, rounded to a multiple of 5 the way an agency's price list would be.
QUOTE_RATES = {"USD": Decimal(1), "EUR": Decimal("0.92"), "GBP": Decimal("0.79")}
PRICE_STEP = Decimal(5)

ARCHIVED_SERVICE = "Print collateral design"
SERVICES: tuple[ServiceSeed, ...] = (
    ServiceSeed(
        "Strategy workshop",
        UnitType.HOUR,
        Decimal("225"),
        "Facilitated session with stakeholders: goals, audiences, priorities.",
        taxable=False,
    ),
    ServiceSeed(
        "UX design",
        UnitType.HOUR,
        Decimal("165"),
        "User flows, wireframes and high-fidelity prototypes in Figma.",
    ),
    ServiceSeed(
        "Frontend development",
        UnitType.HOUR,
        Decimal("150"),
        "Accessible, responsive interfaces built and tested across browsers.",
    ),
    ServiceSeed(
        "Backend development",
        UnitType.HOUR,
        Decimal("160"),
        "APIs, integrations, data models and deployment.",
    ),
    ServiceSeed(
        "Copywriting",
        UnitType.HOUR,
        Decimal("110"),
        "Web copy, product descriptions and campaign messaging.",
    ),
    ServiceSeed(
        "QA testing",
        UnitType.HOUR,
        Decimal("95"),
        "Manual and automated testing with a written defect report.",
    ),
    ServiceSeed(
        "Discovery day",
        UnitType.DAY,
        Decimal("1400"),
        "A full day of interviews, analytics review and a findings summary.",
        taxable=False,
    ),
    ServiceSeed(
        "Design sprint day",
        UnitType.DAY,
        Decimal("1650"),
        "One day of a five-day design sprint with a facilitator and a designer.",
    ),
    ServiceSeed(
        "Brand identity package",
        UnitType.FIXED,
        Decimal("12500"),
        "Logo system, colour palette, typography and a brand guidelines PDF.",
    ),
    ServiceSeed(
        "Website launch",
        UnitType.FIXED,
        Decimal("4500"),
        "Launch checklist, redirects, analytics, performance tuning and go-live support.",
    ),
    ServiceSeed(
        "SEO audit",
        UnitType.FIXED,
        Decimal("2800"),
        "Technical, content and backlink audit with a prioritised action plan.",
        taxable=False,
    ),
    ServiceSeed(
        "SEO retainer",
        UnitType.MONTH,
        Decimal("2500"),
        "Ongoing keyword research, on-page optimisation and a monthly report.",
    ),
    ServiceSeed(
        "Maintenance & hosting",
        UnitType.MONTH,
        Decimal("650"),
        "Managed hosting, backups, security updates and two hours of small changes.",
    ),
    ServiceSeed(
        "Social media management",
        UnitType.MONTH,
        Decimal("1800"),
        "Content calendar, 12 posts a month, community management and reporting.",
    ),
    ServiceSeed(
        "Stock photo license",
        UnitType.ITEM,
        Decimal("45"),
        "Royalty-free image licensed for web and social use.",
    ),
    ServiceSeed(
        ARCHIVED_SERVICE,
        UnitType.HOUR,
        Decimal("120"),
        "Brochures, flyers and business cards ready for print (discontinued).",
    ),
)


# Won deals were estimated, approved and invoiced this many days ago: some invoices are
# overdue, so the client pages and the invoice list show real aging.
WON_INVOICED_DAYS_AGO = (48, 35, 21, 12, 6, 2)
# (share of the balance, extra above it, method) for the oldest open invoices: one paid in
# full, one in part, one overpaid so that the client keeps a credit.
DEMO_PAYMENTS = (
    (Decimal("1"), Decimal("0"), PaymentMethod.BANK_TRANSFER),
    (Decimal("0.4"), Decimal("0"), PaymentMethod.CHECK),
    (Decimal("1"), Decimal("250"), PaymentMethod.BANK_TRANSFER),
)

# For the oldest open invoices nothing has paid yet: a partial credit applied to the invoice,
# and a goodwill credit the client keeps for its next invoices.
DEMO_CREDIT_NOTES = (
    CreditNoteSeed(
        reason="Half of the first line's work was not delivered this period.",
        settlement=CreditSettlement.APPLY,
        line_share=Decimal("0.5"),
    ),
    CreditNoteSeed(
        reason="Goodwill discount for the delayed launch.",
        settlement=CreditSettlement.KEEP,
        adjustment=Decimal("150"),
    ),
)
