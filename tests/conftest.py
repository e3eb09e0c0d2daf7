"""Shared fixtures and the personas of DESIGN.md section 8."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client as HttpClient
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.roles import Role
from tests.factories import AgencyFactory, MembershipFactory


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """`clientledger reconcile` after every test that touched the database, while its data is
    still there: whatever the scenario did, cached balances equal ledger sums to the minor
    unit. Tests that corrupt a balance on purpose say so with `ledger_tampered`."""
    result = yield
    uses_db = pyfuncitem.get_closest_marker("django_db") is not None or any(
        name in pyfuncitem.fixturenames for name in ("db", "transactional_db")
    )
    if uses_db and pyfuncitem.get_closest_marker("ledger_tampered") is None:
        call_command("reconcile", stdout=io.StringIO())
    return result


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings: Settings) -> Iterator[None]:
    """The portal's rate-limit counters live in the process-wide cache: each test starts from
    zero, as the only process counting (the test run's own REDIS_URL and core count aside),
    so that the 404s of one test's unknown links do not block the next test's address."""
    settings.REDIS_URL = None
    settings.WEB_CONCURRENCY = 1
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agency(db: None) -> Agency:
    return AgencyFactory(name="Northwind Studio")


@pytest.fixture
def member_of(db: None) -> Callable[[Agency, str], Membership]:
    def make(agency: Agency, role: str) -> Membership:
        return MembershipFactory(agency=agency, role=role)

    return make


@pytest.fixture
def owner(agency: Agency, member_of: Callable[[Agency, str], Membership]) -> Membership:
    return member_of(agency, Role.OWNER)


@pytest.fixture
def admin(agency: Agency, member_of: Callable[[Agency, str], Membership]) -> Membership:
    return member_of(agency, Role.ADMIN)


@pytest.fixture
def finance(agency: Agency, member_of: Callable[[Agency, str], Membership]) -> Membership:
    return member_of(agency, Role.FINANCE)


@pytest.fixture
def sales(agency: Agency, member_of: Callable[[Agency, str], Membership]) -> Membership:
    return member_of(agency, Role.SALES)


@pytest.fixture
def viewer(agency: Agency, member_of: Callable[[Agency, str], Membership]) -> Membership:
    return member_of(agency, Role.VIEWER)


@pytest.fixture
def outsider(db: None) -> Membership:
    """The owner of another agency."""
    return MembershipFactory(agency=AgencyFactory(name="Rival Agency"), role=Role.OWNER)


@pytest.fixture
def login() -> Callable[[Membership], HttpClient]:
    def make(membership: Membership) -> HttpClient:
        http = HttpClient()
        http.force_login(membership.user)
        return http

    return make


@pytest.fixture
def owner_client(owner: Membership, login: Callable[[Membership], HttpClient]) -> HttpClient:
    return login(owner)


class SmtpInbox(Message):
    """A real SMTP server's mailbox (aiosmtpd on 127.0.0.1)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[object] = []

    def handle_message(self, message: object) -> None:
        self.received.append(message)


@contextmanager
def running_smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    """A real SMTP server on a free port of 127.0.0.1, and its inbox."""
    # aiosmtpd logs every connection at INFO from its own thread, sometimes after pytest
    # closed the captured stream ("Logging error" noise in CI).
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox = SmtpInbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    with running_smtp_server() as server:
        yield server
