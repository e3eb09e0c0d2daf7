"""Money code must not touch binary floating point: no float(), no `float`, no 1.5 literals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MONEY_CODE = [
    ROOT / "clientledger" / "billing",
    ROOT / "clientledger" / "payments",
    ROOT / "clientledger" / "reporting",
    ROOT / "clientledger" / "core" / "money.py",
]


def float_uses(source: str, filename: str = "<string>") -> list[str]:
    """`file:line: what` for every float call, float name or float literal in `source`."""
    tree = ast.parse(source, filename)
    findings: list[tuple[int, int, str]] = []
    # `float(...)` is reported once, as a call, not again as a bare name.
    called = {
        id(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "float" and id(node) in called:
            findings.append((node.lineno, node.col_offset, "float() call"))
        elif isinstance(node, ast.Name) and node.id == "float":
            findings.append((node.lineno, node.col_offset, "the name `float`"))
        elif isinstance(node, ast.Attribute) and node.attr == "float":
            findings.append((node.lineno, node.col_offset, "the attribute `.float`"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, float):
            findings.append((node.lineno, node.col_offset, f"float literal {node.value!r}"))
    return [f"{filename}:{line}: {what}" for line, _, what in sorted(findings)]


def money_files() -> list[Path]:
    files: list[Path] = []
    for path in MONEY_CODE:
        if path.is_file():
            files.append(path)
        elif path.is_dir():  # folders that do not exist yet are skipped
            files.extend(sorted(path.rglob("*.py")))
    return files


def test_money_code_uses_no_floats() -> None:
    files = money_files()
    assert ROOT / "clientledger" / "core" / "money.py" in files  # the scan is not vacuous
    findings = [
        finding
        for path in files
        for finding in float_uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not findings, "floats in money code (use Decimal):\n" + "\n".join(findings)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1.5\n", ["sample.py:1: float literal 1.5"]),
        ("y = '2'\nz = float(y)\n", ["sample.py:2: float() call"]),
        ("def f(a: float) -> int:\n    return 1\n", ["sample.py:1: the name `float`"]),
        ("ok = isinstance(v, float)\n", ["sample.py:1: the name `float`"]),
        ("import builtins\nb = builtins.float\n", ["sample.py:2: the attribute `.float`"]),
        ("n = 1e3\n", ["sample.py:1: float literal 1000.0"]),
    ],
)
def test_the_detector_catches_floats(source: str, expected: list[str]) -> None:
    assert float_uses(source, "sample.py") == expected


def test_the_detector_accepts_decimal_code() -> None:
    source = (
        "from decimal import Decimal\n"
        "x = Decimal('1.5') * 3\n"
        "label = 'float'  # strings and comments mentioning float are fine\n"
        "n = 10 ** -2\n"
    )
    assert float_uses(source, "sample.py") == []
