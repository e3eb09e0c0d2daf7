"""With REDIS_URL set, the portal's counters live in the real Redis shared by every process,
each request counted in one round trip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import redis
from django.test import Client as HttpClient
from django.urls import reverse
from pytest_django import Settings

from clientledger.core import clock
from clientledger.portal import ratelimit
from clientledger.portal.ratelimit import GUESSES_PER_CLIENT, Window
from tests.portal.conftest import SentEstimate

REDIS_URL = "redis://127.0.0.1:6379/10"
NOW = dt.datetime(2026, 3, 2, 9, 30, 15, tzinfo=dt.UTC)


@pytest.fixture
def shared_counters(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    settings.REDIS_URL = REDIS_URL
    # Limits Redis grants whole, whatever the number of processes.
    settings.WEB_CONCURRENCY = 4
    monkeypatch.setattr(clock, "now", lambda: NOW)
    other_process = redis.Redis.from_url(REDIS_URL)
    yield other_process
    for key in other_process.scan_iter("portal-rate:*"):
        other_process.delete(key)


def test_a_links_requests_are_counted_in_redis_in_one_round_trip(
    shared_counters: redis.Redis, sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "REQUESTS_PER_TOKEN", ratelimit.Limit("token", 3, 60))
    _, token = sent_estimate()
    url = reverse("portal:document", args=[token])
    round_trips: list[int] = []
    execute = redis.client.Pipeline.execute

    def counted(pipeline: redis.client.Pipeline, raise_on_error: bool = True) -> list[object]:
        round_trips.append(len(pipeline.command_stack))
        return execute(pipeline, raise_on_error)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)

    statuses = [HttpClient(REMOTE_ADDR=f"198.51.100.{n}").get(url).status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
    # Each request: INCR and EXPIRE of the link's counter, GET of the address's guesses.
    assert round_trips == [3, 3, 3, 3]
    window = Window.current(ratelimit.REQUESTS_PER_TOKEN, token, NOW.timestamp())
    assert shared_counters.get(window.key) == b"4"
    assert 0 < shared_counters.ttl(window.key) <= 60


def test_guesses_counted_by_one_process_block_the_address_in_every_other(
    shared_counters: redis.Redis, sent_estimate: SentEstimate
) -> None:
    _, token = sent_estimate()
    guesses = Window.current(GUESSES_PER_CLIENT, "203.0.113.66", NOW.timestamp())
    shared_counters.set(guesses.key, GUESSES_PER_CLIENT.requests - 1, ex=600)
    guesser = HttpClient(REMOTE_ADDR="203.0.113.66")

    last_guess = guesser.get(reverse("portal:document", args=["guess"]))
    blocked = guesser.get(reverse("portal:document", args=[token]))

    assert (last_guess.status_code, blocked.status_code) == (404, 429)
    assert shared_counters.get(guesses.key) == str(GUESSES_PER_CLIENT.requests).encode()
