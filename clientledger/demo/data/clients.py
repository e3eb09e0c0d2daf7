"""The demo agency's client book: US, EU and UK clients with their contacts."""

from __future__ import annotations

from clientledger.demo.data.seeds import UK, Address, ClientSeed, ContactSeed

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
