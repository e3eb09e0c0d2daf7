"""factory_boy factories, one per model the tests build.

Each factory is a `ModelFactory[Model]`, so `ClientFactory(...)` is typed as a `Client` (not as
a `ClientFactory`, which is what mypy reads from factory_boy's untyped metaclass `__call__`)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from factory.django import DjangoModelFactory

from clientledger.accounts.models import Agency, ApiToken, Membership, User
from clientledger.accounts.roles import Role
from clientledger.accounts.services import TOKEN_PREFIX, secret_hash
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.crm.deal_values import deals_reprice
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage

PASSWORD = "correct-horse-battery-staple"

ModelT = TypeVar("ModelT")


class ModelFactory(DjangoModelFactory[ModelT]):
    """A Django model factory whose call is typed as the model it creates."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # Only for the type checker: factory_boy's metaclass builds the instance at run time.
        # mypy wants `__new__` to return the factory class itself, hence the ignore.
        def __new__(cls, **kwargs: Any) -> ModelT:  # type: ignore[misc]
            ...


class AgencyFactory(ModelFactory[Agency]):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    default_currency = "USD"
    timezone = "Europe/Berlin"


def _save_created_user(user: User, create: bool, extracted: object, **kwargs: object) -> None:
    if create:
        user.save()


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    _save = factory.PostGeneration(_save_created_user)


class MembershipFactory(ModelFactory[Membership]):
    class Meta:
        model = Membership

    agency = factory.SubFactory(AgencyFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class TaxRateFactory(ModelFactory[TaxRate]):
    class Meta:
        model = TaxRate

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"VAT {n}")
    percent = Decimal("19")


class ServiceFactory(ModelFactory[Service]):
    class Meta:
        model = Service

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    unit_type = UnitType.HOUR
    default_unit_price = Decimal("120.00")
    currency = "USD"


class ClientFactory(ModelFactory[Client]):
    class Meta:
        model = Client

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    billing_email = factory.Sequence(lambda n: f"billing{n}@client.example")
    currency = "USD"


class ContactFactory(ModelFactory[Contact]):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    agency = factory.SelfAttribute("client.agency")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")


class DealFactory(ModelFactory[Deal]):
    class Meta:
        model = Deal

    client = factory.SubFactory(ClientFactory)
    agency = factory.SelfAttribute("client.agency")
    title = factory.Sequence(lambda n: f"Deal {n}")
    stage = DealStage.LEAD


class DealLineFactory(ModelFactory[DealLine]):
    class Meta:
        model = DealLine
        skip_postgeneration_save = True

    deal = factory.SubFactory(DealFactory)
    agency = factory.SelfAttribute("deal.agency")
    description = "Design work"
    quantity = Decimal("10")
    unit_price = Decimal("100.00")

    @factory.post_generation
    def deal_value(line: DealLine, create: bool, extracted: object, **kwargs: object) -> None:
        """The deal's stored value follows its lines, as `deal_lines_replace` keeps it."""
        if create:
            deals_reprice(Deal.objects.filter(pk=line.deal_id))


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
