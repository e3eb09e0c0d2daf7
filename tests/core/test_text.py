"""The characters free text may hold (core.text)."""

from __future__ import annotations

import pytest

from clientledger.core.text import TextRefused, check_text, header_text


@pytest.mark.parametrize(
    "text", ["Acme Corp", "Société Générale", "東京デザイン", "Zoë 👩‍💻", "50 % off", ""]
)
def test_ordinary_text_of_any_script_is_accepted_on_one_line(text: str) -> None:
    assert check_text(text) == text


@pytest.mark.parametrize("text", ["Line 1\nLine 2", "Line 1\r\nLine 2", "Item:\tvalue"])
def test_multiline_text_takes_line_breaks_and_tabs(text: str) -> None:
    assert check_text(text, multiline=True) == text


@pytest.mark.parametrize(
    ("text", "multiline", "message"),
    [
        ("a\nb", False, "Enter this on one line: remove the line break (U+000A)."),
        ("a\r\nb", False, "Enter this on one line: remove the line break (U+000D)."),
        ("a\u2028b", False, "Enter this on one line: remove the line break (U+2028)."),
        ("a\tb", False, "Remove the tab character (U+0009), or use spaces."),
        ("a\x00b", True, "Remove the NUL character U+0000: text cannot contain it."),
        ("a\rb", True, "Remove the carriage return (U+000D) that no line feed follows."),
        ("a\x1bb", True, "Remove the control character U+001B: text cannot contain it."),
        ("a\x7fb", True, "Remove the control character U+007F: text cannot contain it."),
        ("a\x9bb", True, "Remove the control character U+009B: text cannot contain it."),
        ("a\ud800b", True, "Remove the invalid character U+D800: it is not a Unicode character."),
        ("a\ufdd5b", True, "Remove the invalid character U+FDD5: it is not a Unicode character."),
        (
            "a\U0010ffffb",
            True,
            "Remove the invalid character U+10FFFF: it is not a Unicode character.",
        ),
    ],
)
def test_control_characters_and_invalid_code_points_are_refused_with_their_code(
    text: str, multiline: bool, message: str
) -> None:
    with pytest.raises(TextRefused) as refused:
        check_text(text, multiline=multiline)

    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("Acme approved EST-1", "Acme approved EST-1"),
        ("Acme\r\nBcc: x@example.com approved", "Acme Bcc: x@example.com approved"),
        ("Tab\there\x00 and\u2028there\ud800", "Tab here and there"),
    ],
)
def test_header_text_puts_anything_on_one_clean_line(text: str, header: str) -> None:
    assert header_text(text) == header
