"""The demo agency "Brightside Digital": a realistic team, catalog, client book and pipeline.

Everything is created through the services, so validation runs and the audit timeline reads
like real use, inside one transaction so a failure leaves nothing half-made. The data are
explicit lists rather than random draws: amounts are the same on every machine and run;
only the expected close dates move with today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from io import TextIOBase

from django.db import transaction

from clientledger.accounts.models import Agency, Membership, User
from clientledger.accounts.roles import Role
from clientledger.accounts.services import agency_create, membership_create
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.drafts import estimate_create_from_deal
from clientledger.billing.services.estimates import (
    estimate_approve,
    estimate_convert,
    estimate_decline,
)
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.catalog.services import service_create, service_set_archived, tax_rate_create
from clientledger.core import clock
from clientledger.core.money import from_minor, quantize
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.crm.services import (
    client_create,
    contact_create,
    deal_create,
    deal_lines_replace,
    deal_move,
)
from clientledger.lines.choices import DiscountKind, Recurrence
from clientledger.lines.data import LineData
from clientledger.payments.models import PaymentMethod
from clientledger.payments.services.manual import payment_record_manual

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


@dataclass(frozen=True)
class ServiceSeed:
    name: str
    unit_type: str
    price: Decimal
    description: str
    taxable: bool = True


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


@dataclass(frozen=True)
class ContactSeed:
    name: str
    email: str
    job_title: str
    phone: str = ""
    billing: bool = False


US, UK = "United States", "United Kingdom"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    region: str
    country: str = US
    line2: str = ""


@dataclass(frozen=True)
class ClientSeed:
    name: str
    billing_email: str
    address: Address
    contacts: tuple[ContactSeed, ...]
    currency: str = "USD"
    tax_id: str = ""
    tax_exempt: bool = False
    payment_terms_days: int | None = None
    notes: str = ""


REVERSE_CHARGE = "EU business customer: reverse charge, no VAT on our invoices."
CLIENTS: tuple[ClientSeed, ...] = (
    ClientSeed(
        "Harbor & Pine Coffee Co.",
        "accounts@harborpine.example",
        Address("214 Wythe Avenue", "Brooklyn", "11249", "NY"),
        (
            ContactSeed(
                "Maya Goldberg",
                "maya@harborpine.example",
                "Founder",
                "+1 718 555 0142",
                billing=True,
            ),
            ContactSeed("Luis Ortega", "luis@harborpine.example", "Head of Retail"),
        ),
    ),
    ClientSeed(
        "Meridian Health Partners",
        "ap@meridianhealth.example",
        Address("1250 Broadway", "New York", "10001", "NY", line2="Suite 1400"),
        (
            ContactSeed(
                "Dr. Hannah Cole", "h.cole@meridianhealth.example", "Chief Medical Officer"
            ),
            ContactSeed(
                "Derek Simmons",
                "d.simmons@meridianhealth.example",
                "AP Manager",
                "+1 212 555 0187",
                billing=True,
            ),
            ContactSeed("Priya Raman", "p.raman@meridianhealth.example", "Digital Lead"),
        ),
    ),
    ClientSeed(
        "Atlas Robotics Inc.",
        "finance@atlasrobotics.example",
        Address("88 Seaport Boulevard", "Boston", "02210", "MA"),
        (
            ContactSeed(
                "Ethan Brooks",
                "ethan.brooks@atlasrobotics.example",
                "VP Marketing",
                "+1 617 555 0110",
            ),
            ContactSeed("Grace Kim", "grace.kim@atlasrobotics.example", "Controller", billing=True),
        ),
    ),
    ClientSeed(
        "Bluebird Learning",
        "billing@bluebirdlearning.example",
        Address("600 Congress Avenue", "Austin", "78701", "TX"),
        (
            ContactSeed(
                "Olivia Martinez",
                "olivia@bluebirdlearning.example",
                "Head of Growth",
                "+1 512 555 0163",
                billing=True,
            ),
        ),
    ),
    ClientSeed(
        "Copperline Realty",
        "invoices@copperline.example",
        Address("401 North Michigan Avenue", "Chicago", "60611", "IL"),
        (
            ContactSeed(
                "Marcus Reed", "marcus@copperline.example", "Managing Broker", "+1 312 555 0129"
            ),
            ContactSeed("Tina Alvarez", "tina@copperline.example", "Office Manager", billing=True),
        ),
    ),
    ClientSeed(
        "Evergreen Outdoor Supply",
        "ap@evergreenoutdoor.example",
        Address("1201 Second Avenue", "Seattle", "98101", "WA"),
        (
            ContactSeed(
                "Noah Jensen",
                "noah.jensen@evergreenoutdoor.example",
                "E-commerce Director",
                "+1 206 555 0175",
            ),
            ContactSeed(
                "Sofia Haddad",
                "sofia.haddad@evergreenoutdoor.example",
                "Finance Manager",
                billing=True,
            ),
            ContactSeed("Ben Carter", "ben.carter@evergreenoutdoor.example", "IT Lead"),
        ),
    ),
    ClientSeed(
        "Northstar Credit Union",
        "vendor.payments@northstarcu.example",
        Address("55 Water Street", "New York", "10041", "NY"),
        (
            ContactSeed(
                "Rachel Nguyen",
                "rnguyen@northstarcu.example",
                "Member Experience Director",
                "+1 212 555 0191",
                billing=True,
            ),
        ),
    ),
    ClientSeed(
        "Summit Legal LLP",
        "accounting@summitlegal.example",
        Address("300 Park Avenue", "New York", "10022", "NY", line2="17th Floor"),
        (
            ContactSeed("James Whitaker", "jwhitaker@summitlegal.example", "Managing Partner"),
            ContactSeed(
                "Laura Chen",
                "lchen@summitlegal.example",
                "Firm Administrator",
                "+1 212 555 0134",
                billing=True,
            ),
        ),
    ),
    ClientSeed(
        "Lumen Solar Systems",
        "payables@lumensolar.example",
        Address("2100 Franklin Street", "Oakland", "94612", "CA"),
        (
            ContactSeed(
                "Kevin Osei",
                "kevin.osei@lumensolar.example",
                "Marketing Manager",
                "+1 510 555 0156",
                billing=True,
            ),
            ContactSeed("Amelia Park", "amelia.park@lumensolar.example", "Product Owner"),
        ),
    ),
    ClientSeed(
        "Greenpoint Community Arts",
        "treasurer@greenpointarts.example",
        Address("67 West Street", "Brooklyn", "11222", "NY"),
        (
            ContactSeed(
                "Daniel Kowalski",
                "daniel@greenpointarts.example",
                "Executive Director",
                "+1 718 555 0108",
            ),
            ContactSeed(
                "Irene Walsh", "treasurer@greenpointarts.example", "Treasurer", billing=True
            ),
        ),
        tax_id="EIN 13-4820571",
        tax_exempt=True,
        notes="501(c)(3) non-profit; exemption certificate ST-119.1 on file.",
    ),
    ClientSeed(
        "Riverside Dental Group",
        "office@riversidedental.example",
        Address("145 Washington Street", "Hoboken", "07030", "NJ"),
        (
            ContactSeed(
                "Dr. Samuel Price",
                "sprice@riversidedental.example",
                "Owner",
                "+1 201 555 0117",
                billing=True,
            ),
        ),
    ),
    ClientSeed(
        "Tidewater Logistics",
        "ap@tidewaterlogistics.example",
        Address("1 Commercial Place", "Norfolk", "23510", "VA"),
        (
            ContactSeed("Angela Foster", "afoster@tidewaterlogistics.example", "COO"),
            ContactSeed(
                "Victor Hale",
                "vhale@tidewaterlogistics.example",
                "Accounts Payable",
                "+1 757 555 0149",
                billing=True,
            ),
            ContactSeed("Jordan Ellis", "jellis@tidewaterlogistics.example", "Engineering Manager"),
        ),
    ),
    ClientSeed(
        "Foxglove Skincare",
        "hello@foxgloveskin.example",
        Address("450 West 14th Street", "New York", "10014", "NY"),
        (
            ContactSeed(
                "Chloe Bennett",
                "chloe@foxgloveskin.example",
                "Co-founder & CEO",
                "+1 646 555 0182",
                billing=True,
            ),
            ContactSeed("Ava Russo", "ava@foxgloveskin.example", "Brand Manager"),
        ),
    ),
    ClientSeed(
        "Nordlicht Möbel GmbH",
        "buchhaltung@nordlicht-moebel.example",
        Address("Torstraße 140", "Berlin", "10119", "Berlin", "Germany"),
        (
            ContactSeed(
                "Jonas Weber",
                "j.weber@nordlicht-moebel.example",
                "Geschäftsführer",
                "+49 30 5550 1420",
            ),
            ContactSeed(
                "Lena Hoffmann", "l.hoffmann@nordlicht-moebel.example", "Buchhaltung", billing=True
            ),
        ),
        currency="EUR",
        tax_id="DE 318 442 907",
        notes=REVERSE_CHARGE,
    ),
    ClientSeed(
        "Atelier Lumière SARL",
        "compta@atelier-lumiere.example",
        Address("12 Rue de Bretagne", "Paris", "75003", "Île-de-France", "France"),
        (
            ContactSeed(
                "Camille Durand",
                "camille@atelier-lumiere.example",
                "Directrice artistique",
                "+33 1 55 50 12 34",
                billing=True,
            ),
        ),
        currency="EUR",
        tax_id="FR 40 812 345 678",
        notes=REVERSE_CHARGE,
    ),
    ClientSeed(
        "Kingsbridge Publishing Ltd",
        "accounts@kingsbridgebooks.example",
        Address("20 Farringdon Road", "London", "EC1M 3HE", "", UK),
        (
            ContactSeed(
                "Oliver Hughes",
                "oliver.hughes@kingsbridgebooks.example",
                "Digital Publisher",
                "+44 20 7946 0321",
            ),
            ContactSeed(
                "Emma Clarke",
                "emma.clarke@kingsbridgebooks.example",
                "Finance Director",
                billing=True,
            ),
        ),
        currency="GBP",
        tax_id="GB 284 6153 92",
        payment_terms_days=14,
        notes="Pays on 14-day terms, agreed in the 2025 framework contract.",
    ),
    ClientSeed(
        "Thistle & Oak Distillery",
        "finance@thistleoak.example",
        Address("8 Constitution Street", "Edinburgh", "EH6 7BS", "Scotland", UK),
        (
            ContactSeed(
                "Fiona MacLeod",
                "fiona@thistleoak.example",
                "Managing Director",
                "+44 131 496 0734",
                billing=True,
            ),
            ContactSeed("Callum Reid", "callum@thistleoak.example", "Visitor Centre Manager"),
        ),
        currency="GBP",
        tax_id="GB 391 2270 45",
    ),
)


@dataclass(frozen=True)
class LineSeed:
    service: str
    quantity: Decimal
    detail: str = ""
    discount_kind: str = ""
    discount_value: Decimal = Decimal(0)
    recurrence: str = Recurrence.ONE_OFF


@dataclass(frozen=True)
class DealSeed:
    title: str
    client: str
    stage: str
    owner_role: str
    # Days from today: future for open deals, past for won and lost ones.
    close_in_days: int
    lines: tuple[LineSeed, ...]


def _line(
    service: str,
    quantity: str,
    detail: str = "",
    *,
    percent_off: str = "",
    amount_off: str = "",
    recurrence: str = Recurrence.ONE_OFF,
) -> LineSeed:
    kind = DiscountKind.PERCENT if percent_off else DiscountKind.AMOUNT if amount_off else ""
    return LineSeed(
        service,
        Decimal(quantity),
        detail,
        kind,
        Decimal(percent_off or amount_off or 0),
        recurrence,
    )


MONTHLY, QUARTERLY = Recurrence.MONTHLY, Recurrence.QUARTERLY
LEAD, QUALIFIED, PROPOSAL = DealStage.LEAD, DealStage.QUALIFIED, DealStage.PROPOSAL
WON, LOST = DealStage.WON, DealStage.LOST
DEALS: tuple[DealSeed, ...] = (
    DealSeed(
        "Brand refresh for the 2026 product line",
        "Foxglove Skincare",
        LEAD,
        Role.SALES,
        close_in_days=45,
        lines=(
            _line("Strategy workshop", "6", "positioning and naming"),
            _line("Brand identity package", "1"),
        ),
    ),
    DealSeed(
        "Member portal UX review",
        "Northstar Credit Union",
        LEAD,
        Role.ADMIN,
        close_in_days=60,
        lines=(
            _line("UX design", "40", "heuristic review and redesign of key journeys"),
            _line("QA testing", "16", "accessibility audit (WCAG 2.2 AA)"),
        ),
    ),
    DealSeed(
        "Solar savings calculator",
        "Lumen Solar Systems",
        LEAD,
        Role.SALES,
        close_in_days=38,
        lines=(
            _line("Frontend development", "60", "interactive calculator"),
            _line("Backend development", "40", "utility tariff API integration"),
            _line("Copywriting", "8"),
        ),
    ),
    DealSeed(
        "Social launch for the Berlin showroom",
        "Nordlicht Möbel GmbH",
        LEAD,
        Role.SALES,
        close_in_days=52,
        lines=(
            _line("Social media management", "3", "launch quarter"),
            _line("Copywriting", "12", "German and English captions"),
        ),
    ),
    DealSeed(
        "Patient booking flow redesign",
        "Meridian Health Partners",
        QUALIFIED,
        Role.OWNER,
        close_in_days=30,
        lines=(
            _line("Strategy workshop", "8"),
            _line("UX design", "60", "booking and rescheduling flows"),
            _line("Frontend development", "80"),
            _line("QA testing", "24"),
        ),
    ),
    DealSeed(
        "Course catalog relaunch",
        "Bluebird Learning",
        QUALIFIED,
        Role.SALES,
        close_in_days=24,
        lines=(
            _line("Website launch", "1"),
            _line("Frontend development", "40", "catalog and course pages"),
            _line("Copywriting", "20", "course descriptions", percent_off="10"),
        ),
    ),
    DealSeed(
        "Listings site SEO",
        "Copperline Realty",
        QUALIFIED,
        Role.SALES,
        close_in_days=21,
        lines=(
            _line("SEO audit", "1"),
            _line("SEO retainer", "1", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Spring campaign microsite",
        "Atelier Lumière SARL",
        QUALIFIED,
        Role.ADMIN,
        close_in_days=28,
        lines=(
            _line("UX design", "24"),
            _line("Frontend development", "36"),
            _line("Stock photo license", "12"),
        ),
    ),
    DealSeed(
        "Trade-show landing pages",
        "Atlas Robotics Inc.",
        PROPOSAL,
        Role.SALES,
        close_in_days=10,
        lines=(
            _line("Design sprint day", "2"),
            _line("Frontend development", "48", amount_off="500"),
            _line("QA testing", "12"),
        ),
    ),
    DealSeed(
        "E-commerce replatforming",
        "Evergreen Outdoor Supply",
        PROPOSAL,
        Role.OWNER,
        close_in_days=14,
        lines=(
            _line("Discovery day", "2"),
            _line("Backend development", "120", "Shopify Plus migration and ERP sync"),
            _line("Frontend development", "140", "storefront theme"),
            _line("QA testing", "40"),
            _line("Maintenance & hosting", "1", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Firm website and attorney bios",
        "Summit Legal LLP",
        PROPOSAL,
        Role.ADMIN,
        close_in_days=7,
        lines=(
            _line("Website launch", "1"),
            _line("Copywriting", "30", "practice area pages and 24 bios"),
            _line("Stock photo license", "20"),
        ),
    ),
    DealSeed(
        "Autumn catalogue website",
        "Kingsbridge Publishing Ltd",
        PROPOSAL,
        Role.SALES,
        close_in_days=12,
        lines=(
            _line("UX design", "30"),
            _line("Frontend development", "50", percent_off="5"),
        ),
    ),
    DealSeed(
        "Tasting room booking site",
        "Thistle & Oak Distillery",
        PROPOSAL,
        Role.SALES,
        close_in_days=18,
        lines=(
            _line("Brand identity package", "1", percent_off="5"),
            _line("Website launch", "1"),
            _line("Social media management", "3", "billed per quarter", recurrence=QUARTERLY),
        ),
    ),
    DealSeed(
        "Website care plan",
        "Harbor & Pine Coffee Co.",
        WON,
        Role.OWNER,
        close_in_days=-20,
        lines=(
            _line("Maintenance & hosting", "1", recurrence=MONTHLY),
            _line("Frontend development", "10", "seasonal menu pages"),
        ),
    ),
    DealSeed(
        "Search visibility retainer",
        "Meridian Health Partners",
        WON,
        Role.SALES,
        close_in_days=-35,
        lines=(
            _line("SEO audit", "1"),
            _line("SEO retainer", "1", percent_off="10", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Annual report microsite",
        "Greenpoint Community Arts",
        WON,
        Role.ADMIN,
        close_in_days=-12,
        lines=(
            _line("UX design", "20"),
            _line("Frontend development", "30"),
            _line("Copywriting", "16", percent_off="15"),
            _line(ARCHIVED_SERVICE, "10", "printed annual report"),
        ),
    ),
    DealSeed(
        "Clinic rebrand",
        "Riverside Dental Group",
        WON,
        Role.OWNER,
        close_in_days=-42,
        lines=(
            _line("Brand identity package", "1"),
            _line(ARCHIVED_SERVICE, "12", "signage and appointment cards"),
            _line("Website launch", "1", amount_off="250"),
        ),
    ),
    DealSeed(
        "Always-on social media",
        "Nordlicht Möbel GmbH",
        WON,
        Role.SALES,
        close_in_days=-8,
        lines=(
            _line("Social media management", "1", recurrence=MONTHLY),
            _line("Strategy workshop", "4", "content pillars"),
        ),
    ),
    DealSeed(
        "Shipment tracking dashboard",
        "Tidewater Logistics",
        WON,
        Role.ADMIN,
        close_in_days=-25,
        lines=(
            _line("Discovery day", "1"),
            _line("Backend development", "90", "carrier webhooks and tracking API"),
            _line("Frontend development", "70", "customer dashboard"),
            _line("QA testing", "30"),
            _line("Maintenance & hosting", "3", "billed per quarter", recurrence=QUARTERLY),
        ),
    ),
    DealSeed(
        "Mobile app concept",
        "Copperline Realty",
        LOST,
        Role.SALES,
        close_in_days=-15,
        lines=(
            _line("Strategy workshop", "8"),
            _line("UX design", "50", "iOS and Android prototypes"),
        ),
    ),
    DealSeed(
        "Newsletter relaunch",
        "Kingsbridge Publishing Ltd",
        LOST,
        Role.SALES,
        close_in_days=-30,
        lines=(
            _line("Copywriting", "40"),
            _line("Social media management", "3", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Product video landing page",
        "Atlas Robotics Inc.",
        LOST,
        Role.ADMIN,
        close_in_days=-5,
        lines=(
            _line("Design sprint day", "1"),
            _line("Frontend development", "24"),
        ),
    ),
)
CLOSED_STAGES = (WON, LOST)


def demo_load(*, password: str, stdout: TextIOBase) -> bool:
    """Create the demo agency with its data; False (and nothing changed) if it is already there."""
    if not password:
        raise ValueError("password: enter a password for the demo users")
    with transaction.atomic():
        if User.objects.filter(email__in=DEMO_EMAILS).exists():
            stdout.write("Demo data already loaded; nothing was changed.\n")
            return False
        team = _team_create(password)
        agency, owner = team[Role.OWNER].agency, team[Role.OWNER].user
        stdout.write(f"Created the agency {agency.name} with {len(team)} team members\n")
        taxes = _tax_rates_create(agency, owner)
        stdout.write(f"Created {len(taxes)} tax rates\n")
        services = _services_create(agency, owner, taxes)
        stdout.write(f"Created {len(services)} services\n")
        clients = _clients_create(agency, team[Role.SALES].user)
        contact_count = sum(len(seed.contacts) for seed in CLIENTS)
        stdout.write(f"Created {len(clients)} clients with {contact_count} contacts\n")
        _deals_create(agency, team, clients, services, taxes)
        line_count = sum(len(seed.lines) for seed in DEALS)
        stdout.write(f"Created {len(DEALS)} deals with {line_count} service lines\n")
        # Archived last: the won deals above still show it, new ones can no longer add it.
        service_set_archived(service=services[ARCHIVED_SERVICE], actor=owner, archived=True)
        stdout.write(f"Archived the service {ARCHIVED_SERVICE}\n")
        estimates, invoices = _documents_create(agency, team)
        stdout.write(f"Created {estimates} estimates and {invoices} invoices\n")
        payments = _payments_create(agency, team[Role.FINANCE].user)
        stdout.write(f"Recorded {payments} payments\n")
    return True


def _team_create(password: str) -> dict[str, Membership]:
    owner = agency_create(
        name=AGENCY_NAME,
        owner_email=OWNER_EMAIL,
        owner_name=OWNER_NAME,
        owner_password=password,
        **AGENCY_SETTINGS,
    )
    team: dict[str, Membership] = {Role.OWNER: owner}
    for role, (email, full_name) in TEAMMATES.items():
        # The whole demo team shares one password, so its hash is computed once: a
        # production hasher takes about half a second per hash.
        team[role] = membership_create(
            agency=owner.agency,
            actor=owner.user,
            email=email,
            full_name=full_name,
            role=role,
            password_hash=owner.user.password,
        )
    return team


def _tax_rates_create(agency: Agency, actor: User) -> dict[str, TaxRate]:
    return {
        name: tax_rate_create(agency=agency, actor=actor, name=name, percent=percent)
        for name, percent in TAX_RATES
    }


def _services_create(agency: Agency, actor: User, taxes: dict[str, TaxRate]) -> dict[str, Service]:
    return {
        seed.name: service_create(
            agency=agency,
            actor=actor,
            name=seed.name,
            description=seed.description,
            unit_type=seed.unit_type,
            default_unit_price=seed.price,
            currency=agency.default_currency,
            default_tax_1=taxes[SALES_TAX] if seed.taxable else None,
        )
        for seed in SERVICES
    }


def _clients_create(agency: Agency, actor: User) -> dict[str, Client]:
    clients = {}
    for seed in CLIENTS:
        client = client_create(
            agency=agency,
            actor=actor,
            name=seed.name,
            billing_email=seed.billing_email,
            address_line1=seed.address.line1,
            address_line2=seed.address.line2,
            city=seed.address.city,
            postal_code=seed.address.postal_code,
            region=seed.address.region,
            country=seed.address.country,
            currency=seed.currency,
            tax_id=seed.tax_id,
            tax_exempt=seed.tax_exempt,
            payment_terms_days=seed.payment_terms_days,
            notes=seed.notes,
        )
        for contact in seed.contacts:
            contact_create(
                client=client,
                actor=actor,
                name=contact.name,
                email=contact.email,
                phone=contact.phone,
                job_title=contact.job_title,
                is_billing_contact=contact.billing,
            )
        clients[seed.name] = client
    return clients


def _deals_create(
    agency: Agency,
    team: dict[str, Membership],
    clients: dict[str, Client],
    services: dict[str, Service],
    taxes: dict[str, TaxRate],
) -> None:
    today = clock.agency_today(agency)
    for seed in DEALS:
        owner = team[seed.owner_role].user
        client = clients[seed.client]
        deal = deal_create(
            agency=agency,
            actor=owner,
            title=seed.title,
            client=client,
            owner=owner,
            # Closed deals went through a proposal first, so their timeline shows the move.
            stage=PROPOSAL if seed.stage in CLOSED_STAGES else seed.stage,
            expected_close_date=today + dt.timedelta(days=seed.close_in_days),
        )
        deal_lines_replace(
            deal=deal,
            actor=owner,
            lines=[_line_data(line, services[line.service], client, taxes) for line in seed.lines],
        )
        if seed.stage in CLOSED_STAGES:
            deal_move(deal=deal, actor=owner, stage=seed.stage)


# Won deals were estimated, approved and invoiced this many days ago: some invoices are
# overdue, so the client pages and the invoice list show real aging.
WON_INVOICED_DAYS_AGO = (48, 35, 21, 12, 6, 2)


def _documents_create(agency: Agency, team: dict[str, Membership]) -> tuple[int, int]:
    """Estimates and invoices through the real services: sent, approved, declined, issued."""
    finance, sales = team[Role.FINANCE].user, team[Role.SALES].user
    today = clock.agency_today(agency)
    estimates = invoices = 0
    deals = Deal.objects.filter(agency=agency).select_related("client").order_by("id")
    won = [deal for deal in deals if deal.stage == DealStage.WON]
    for deal, days_ago in zip(won, WON_INVOICED_DAYS_AGO, strict=False):
        estimate = estimate_create_from_deal(deal=deal, actor=sales)
        estimate = estimate_send(estimate=estimate, actor=sales, recipients=_recipients(deal))
        estimate = estimate_approve(
            estimate=estimate, name=_billing_name(deal), ip="203.0.113.7", user_agent="Demo"
        )
        invoice = estimate_convert(estimate=estimate, actor=finance)
        invoice_issue(
            invoice=invoice, actor=finance, issue_date=today - dt.timedelta(days=days_ago)
        )
        estimates, invoices = estimates + 1, invoices + 1
    for deal in deals:
        if deal.stage == DealStage.PROPOSAL:
            estimate = estimate_create_from_deal(deal=deal, actor=deal.owner)
            estimate_send(estimate=estimate, actor=deal.owner, recipients=_recipients(deal))
            estimates += 1
        elif deal.stage == DealStage.LOST:
            estimate = estimate_create_from_deal(deal=deal, actor=deal.owner)
            estimate = estimate_send(
                estimate=estimate, actor=deal.owner, recipients=_recipients(deal)
            )
            estimate_decline(estimate=estimate, reason="We went with an in-house team.")
            estimates += 1
    return estimates, invoices


# (share of the balance, extra above it, method) for the oldest open invoices: one paid in
# full, one in part, one overpaid so that the client keeps a credit.
DEMO_PAYMENTS = (
    (Decimal("1"), Decimal("0"), PaymentMethod.BANK_TRANSFER),
    (Decimal("0.4"), Decimal("0"), PaymentMethod.CHECK),
    (Decimal("1"), Decimal("250"), PaymentMethod.BANK_TRANSFER),
)


def _payments_create(agency: Agency, actor: User) -> int:
    """Manual payments through the real service, received two days ago."""
    received_on = clock.agency_today(agency) - dt.timedelta(days=2)
    invoices = (
        Invoice.objects.filter(agency=agency, status=InvoiceStatus.OPEN)
        .select_related("client")
        .order_by("due_date", "id")
    )
    recorded = 0
    for invoice, (share, extra, method) in zip(invoices, DEMO_PAYMENTS, strict=False):
        balance = from_minor(invoice.balance_due_minor, invoice.currency)
        paid = quantize(balance * share, invoice.currency)
        payment_record_manual(
            agency=agency,
            actor=actor,
            client=invoice.client,
            amount=paid + extra,
            currency=invoice.currency,
            received_on=received_on,
            method=method,
            reference=f"Remittance {invoice.number}",
            allocations=[(invoice, paid)],
        )
        recorded += 1
    return recorded


def _recipients(deal: Deal) -> list[str]:
    return [deal.client.billing_email]


def _billing_name(deal: Deal) -> str:
    billing = deal.client.contacts.filter(is_billing_contact=True).first()
    return billing.name if billing else ""


def _line_data(
    seed: LineSeed, service: Service, client: Client, taxes: dict[str, TaxRate]
) -> LineData:
    return LineData(
        description=f"{service.name}: {seed.detail}" if seed.detail else service.name,
        quantity=seed.quantity,
        unit_price=_quoted_price(service.default_unit_price, client.currency),
        unit=service.unit_type,
        service=service,
        discount_kind=seed.discount_kind,
        discount_value=seed.discount_value,
        taxes=_line_taxes(service, client, taxes),
        recurrence=seed.recurrence,
    )


def _quoted_price(usd_price: Decimal, currency: str) -> Decimal:
    steps = (usd_price * QUOTE_RATES[currency] / PRICE_STEP).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return steps * PRICE_STEP


def _line_taxes(service: Service, client: Client, taxes: dict[str, TaxRate]) -> list[TaxRate]:
    """US clients get the service's default taxes (a tax-exempt client's are waived when
    totals are computed); UK clients pay UK VAT; EU businesses are reverse-charged."""
    if client.country == UK:
        return [taxes[VAT]]
    if client.country != US:
        return []
    return service.default_taxes
