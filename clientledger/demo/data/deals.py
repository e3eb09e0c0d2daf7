"""The demo agency's pipeline: open, won and lost deals with their service lines."""

from __future__ import annotations

from clientledger.accounts.roles import Role
from clientledger.crm.models import DealStage
from clientledger.demo.data.agency import ARCHIVED_SERVICE
from clientledger.demo.data.seeds import DealSeed, line_seed
from clientledger.lines.choices import Recurrence

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
            line_seed("Strategy workshop", "6", "positioning and naming"),
            line_seed("Brand identity package", "1"),
        ),
    ),
    DealSeed(
        "Member portal UX review",
        "Northstar Credit Union",
        LEAD,
        Role.ADMIN,
        close_in_days=60,
        lines=(
            line_seed("UX design", "40", "heuristic review and redesign of key journeys"),
            line_seed("QA testing", "16", "accessibility audit (WCAG 2.2 AA)"),
        ),
    ),
    DealSeed(
        "Solar savings calculator",
        "Lumen Solar Systems",
        LEAD,
        Role.SALES,
        close_in_days=38,
        lines=(
            line_seed("Frontend development", "60", "interactive calculator"),
            line_seed("Backend development", "40", "utility tariff API integration"),
            line_seed("Copywriting", "8"),
        ),
    ),
    DealSeed(
        "Social launch for the Berlin showroom",
        "Nordlicht Möbel GmbH",
        LEAD,
        Role.SALES,
        close_in_days=52,
        lines=(
            line_seed("Social media management", "3", "launch quarter"),
            line_seed("Copywriting", "12", "German and English captions"),
        ),
    ),
    DealSeed(
        "Patient booking flow redesign",
        "Meridian Health Partners",
        QUALIFIED,
        Role.OWNER,
        close_in_days=30,
        lines=(
            line_seed("Strategy workshop", "8"),
            line_seed("UX design", "60", "booking and rescheduling flows"),
            line_seed("Frontend development", "80"),
            line_seed("QA testing", "24"),
        ),
    ),
    DealSeed(
        "Course catalog relaunch",
        "Bluebird Learning",
        QUALIFIED,
        Role.SALES,
        close_in_days=24,
        lines=(
            line_seed("Website launch", "1"),
            line_seed("Frontend development", "40", "catalog and course pages"),
            line_seed("Copywriting", "20", "course descriptions", percent_off="10"),
        ),
    ),
    DealSeed(
        "Listings site SEO",
        "Copperline Realty",
        QUALIFIED,
        Role.SALES,
        close_in_days=21,
        lines=(
            line_seed("SEO audit", "1"),
            line_seed("SEO retainer", "1", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Spring campaign microsite",
        "Atelier Lumière SARL",
        QUALIFIED,
        Role.ADMIN,
        close_in_days=28,
        lines=(
            line_seed("UX design", "24"),
            line_seed("Frontend development", "36"),
            line_seed("Stock photo license", "12"),
        ),
    ),
    DealSeed(
        "Trade-show landing pages",
        "Atlas Robotics Inc.",
        PROPOSAL,
        Role.SALES,
        close_in_days=10,
        lines=(
            line_seed("Design sprint day", "2"),
            line_seed("Frontend development", "48", amount_off="500"),
            line_seed("QA testing", "12"),
        ),
    ),
    DealSeed(
        "E-commerce replatforming",
        "Evergreen Outdoor Supply",
        PROPOSAL,
        Role.OWNER,
        close_in_days=14,
        lines=(
            line_seed("Discovery day", "2"),
            line_seed("Backend development", "120", "Shopify Plus migration and ERP sync"),
            line_seed("Frontend development", "140", "storefront theme"),
            line_seed("QA testing", "40"),
            line_seed("Maintenance & hosting", "1", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Firm website and attorney bios",
        "Summit Legal LLP",
        PROPOSAL,
        Role.ADMIN,
        close_in_days=7,
        lines=(
            line_seed("Website launch", "1"),
            line_seed("Copywriting", "30", "practice area pages and 24 bios"),
            line_seed("Stock photo license", "20"),
        ),
    ),
    DealSeed(
        "Autumn catalogue website",
        "Kingsbridge Publishing Ltd",
        PROPOSAL,
        Role.SALES,
        close_in_days=12,
        lines=(
            line_seed("UX design", "30"),
            line_seed("Frontend development", "50", percent_off="5"),
        ),
    ),
    DealSeed(
        "Tasting room booking site",
        "Thistle & Oak Distillery",
        PROPOSAL,
        Role.SALES,
        close_in_days=18,
        lines=(
            line_seed("Brand identity package", "1", percent_off="5"),
            line_seed("Website launch", "1"),
            line_seed("Social media management", "3", "billed per quarter", recurrence=QUARTERLY),
        ),
    ),
    DealSeed(
        "Website care plan",
        "Harbor & Pine Coffee Co.",
        WON,
        Role.OWNER,
        close_in_days=-20,
        lines=(
            line_seed("Maintenance & hosting", "1", recurrence=MONTHLY),
            line_seed("Frontend development", "10", "seasonal menu pages"),
        ),
    ),
    DealSeed(
        "Search visibility retainer",
        "Meridian Health Partners",
        WON,
        Role.SALES,
        close_in_days=-35,
        lines=(
            line_seed("SEO audit", "1"),
            line_seed("SEO retainer", "1", percent_off="10", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Annual report microsite",
        "Greenpoint Community Arts",
        WON,
        Role.ADMIN,
        close_in_days=-12,
        lines=(
            line_seed("UX design", "20"),
            line_seed("Frontend development", "30"),
            line_seed("Copywriting", "16", percent_off="15"),
            line_seed(ARCHIVED_SERVICE, "10", "printed annual report"),
        ),
    ),
    DealSeed(
        "Clinic rebrand",
        "Riverside Dental Group",
        WON,
        Role.OWNER,
        close_in_days=-42,
        lines=(
            line_seed("Brand identity package", "1"),
            line_seed(ARCHIVED_SERVICE, "12", "signage and appointment cards"),
            line_seed("Website launch", "1", amount_off="250"),
        ),
    ),
    DealSeed(
        "Always-on social media",
        "Nordlicht Möbel GmbH",
        WON,
        Role.SALES,
        close_in_days=-8,
        lines=(
            line_seed("Social media management", "1", recurrence=MONTHLY),
            line_seed("Strategy workshop", "4", "content pillars"),
        ),
    ),
    DealSeed(
        "Shipment tracking dashboard",
        "Tidewater Logistics",
        WON,
        Role.ADMIN,
        close_in_days=-25,
        lines=(
            line_seed("Discovery day", "1"),
            line_seed("Backend development", "90", "carrier webhooks and tracking API"),
            line_seed("Frontend development", "70", "customer dashboard"),
            line_seed("QA testing", "30"),
            line_seed("Maintenance & hosting", "3", "billed per quarter", recurrence=QUARTERLY),
        ),
    ),
    DealSeed(
        "Mobile app concept",
        "Copperline Realty",
        LOST,
        Role.SALES,
        close_in_days=-15,
        lines=(
            line_seed("Strategy workshop", "8"),
            line_seed("UX design", "50", "iOS and Android prototypes"),
        ),
    ),
    DealSeed(
        "Newsletter relaunch",
        "Kingsbridge Publishing Ltd",
        LOST,
        Role.SALES,
        close_in_days=-30,
        lines=(
            line_seed("Copywriting", "40"),
            line_seed("Social media management", "3", recurrence=MONTHLY),
        ),
    ),
    DealSeed(
        "Product video landing page",
        "Atlas Robotics Inc.",
        LOST,
        Role.ADMIN,
        close_in_days=-5,
        lines=(
            line_seed("Design sprint day", "1"),
            line_seed("Frontend development", "24"),
        ),
    ),
)
CLOSED_STAGES = (WON, LOST)
