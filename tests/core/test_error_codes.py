"""Error codes are `clientledger.core.error_codes.ErrorCode` members, never strings typed
where an error is raised."""

from __future__ import annotations

import re
from pathlib import Path

import clientledger

CODE = Path(clientledger.__file__).parent


def test_no_error_is_raised_with_a_code_typed_as_a_string() -> None:
    literal_codes = [
        f"{path.relative_to(CODE)}:{number}"
        for path in CODE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bcode=f?[\"']", line)
    ]

    assert literal_codes == []
