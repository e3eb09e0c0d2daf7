"""factory_boy factories, one per model the tests build."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from clientledger.accounts.models import Agency, ApiToken, Membership, User
from clientledger.accounts.roles import Role
from clientledger.accounts.services import TOKEN_PREFIX, secret_hash
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage

PASSWORD = "correct-horse-battery-staple"


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    default_currency = "USD"
    timezone = "Europe/Berlin"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    agency = factory.SubFactory(AgencyFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class TaxRateFactory(DjangoModelFactory):
    class Meta:
        model = TaxRate

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"VAT {n}")
    percent = Decimal("19")


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    unit_type = UnitType.HOUR
    default_unit_price = Decimal("120.00")
    currency = "USD"


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    billing_email = factory.Sequence(lambda n: f"billing{n}@client.example")
    currency = "USD"


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    agency = factory.SelfAttribute("client.agency")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")


class DealFactory(DjangoModelFactory):
    class Meta:
        model = Deal

    client = factory.SubFactory(ClientFactory)
    agency = factory.SelfAttribute("client.agency")
    title = factory.Sequence(lambda n: f"Deal {n}")
    stage = DealStage.LEAD


class DealLineFactory(DjangoModelFactory):
    class Meta:
        model = DealLine

    deal = factory.SubFactory(DealFactory)
    agency = factory.SelfAttribute("deal.agency")
    description = "Design work"
    quantity = Decimal("10")
    unit_price = Decimal("100.00")


def unchecked_api_token(membership: Membership) -> tuple[ApiToken, str]:
    """A live token and its key for `membership`, stored straight in the table, skipping the
    role check of `api_token_create`: what the `api-token` command left for viewers before it
    applied the role table."""
    key = f"{TOKEN_PREFIX}unchecked-{membership.pk}-{ApiToken.objects.count()}"
    token = ApiToken.objects.create(
        agency=membership.agency,
        user=membership.user,
        name="Unchecked",
        prefix=key[:10],
        key_hash=secret_hash(key),
    )
    return token, key
