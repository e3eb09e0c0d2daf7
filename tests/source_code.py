"""Reading the application's own source, for tests that hold a rule over all of it."""

from __future__ import annotations

import ast
from pathlib import Path

import clientledger

CODE = Path(clientledger.__file__).parent


def string_keyword_arguments(keyword: str) -> list[str]:
    """`path:line` of every call in `clientledger/` that passes `keyword=` a string literal or
    an f-string, e.g. `verb="client.created"` or `code=f"{kind}_locked"`."""
    found = []
    for path in sorted(CODE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            for argument in node.keywords:
                if argument.arg == keyword and _is_string(argument.value):
                    found.append(f"{path.relative_to(CODE)}:{argument.value.lineno}")
    return found


def _is_string(node: ast.expr) -> bool:
    if isinstance(node, ast.IfExp):
        return _is_string(node.body) or _is_string(node.orelse)
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )
