"""With REDIS_URL set, the portal's counters live in the real Redis shared by every process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from clientledger.portal.ratelimit import Limit, limit_hit

REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
}


@pytest.fixture
def redis_cache() -> Iterator[None]:
    with override_settings(CACHES=REDIS):
        yield
        cache.clear()


def test_the_limit_is_counted_in_redis(redis_cache: None) -> None:
    limit = Limit(scope=f"test-{uuid.uuid4()}", requests=3, window_seconds=60)
    assert [limit_hit(limit, "203.0.113.9") for _ in range(3)] == [None, None, None]
    retry_after = limit_hit(limit, "203.0.113.9")
    assert retry_after is not None and 0 < retry_after <= 60
    assert limit_hit(limit, "198.51.100.1") is None
