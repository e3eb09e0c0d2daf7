"""Error codes are `clientledger.core.error_codes.ErrorCode` members, never strings typed
where an error is raised."""

from __future__ import annotations

from tests.source_code import string_keyword_arguments


def test_no_error_is_raised_with_a_code_typed_as_a_string() -> None:
    assert string_keyword_arguments("code") == []
