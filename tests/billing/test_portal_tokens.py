"""Client link URLs made in batches are the ones made one at a time."""

from __future__ import annotations

import secrets

from clientledger.billing.portal_tokens import portal_nonce_token, portal_url, portal_url_maker


def test_a_batch_makes_each_token_the_url_portal_url_makes() -> None:
    tokens = [portal_nonce_token(secrets.token_hex(32)) for _ in range(50)]
    url_of = portal_url_maker()
    assert [url_of(token) for token in tokens] == [portal_url(token) for token in tokens]
