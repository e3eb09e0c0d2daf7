"""Estimate and invoice PDFs, rendered by typst from templates/document.typ.

The document travels to typst as JSON in `sys.inputs` and the template reads it as data,
so nothing an agency or its clients typed can become typst markup or code. Rendering is a
pure function of the document (plus the logo file it names): no database, no network.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, cast

import typst

from clientledger.core.images import image_suffix

__all__ = ["render_document_pdf", "render_typst_pdf"]

TEMPLATE = (Path(__file__).parent / "templates" / "document.typ").read_bytes()

_per_thread = threading.local()


def _compiler(template: bytes) -> typst.Compiler:
    # A Compiler loads its fonts once and is reused for every render, but it refuses to be
    # entered by two threads at once, so each thread owns one per template. System fonts are
    # ignored so a document looks the same on every machine, whatever fonts the host has.
    compilers: dict[bytes, typst.Compiler] = _per_thread.__dict__.setdefault("compilers", {})
    compiler = compilers.get(template)
    if compiler is None:
        compiler = compilers[template] = typst.Compiler(template, ignore_system_fonts=True)
    return compiler


def _compile(
    document: dict[str, Any], *, template: bytes = TEMPLATE, **options: Any
) -> bytes | list[bytes]:
    # Each render gets its own empty root holding nothing but a copy of the logo, so the
    # compiler can read no other file. The template is passed again on every call because
    # the compiler forgets an in-memory main file when the root changes.
    with tempfile.TemporaryDirectory(prefix="clientledger-document-") as root:
        inputs = {"data": json.dumps(document)}
        logo_path = (document.get("seller") or {}).get("logo_path")
        if logo_path:
            # typst picks the decoder by suffix: name the copy after what the file really is
            # (logos stored before uploads were renamed may carry another format's suffix).
            suffix = image_suffix(logo_path) or Path(logo_path).suffix.lower()
            logo = Path(root) / f"logo{suffix}"
            shutil.copyfile(logo_path, logo)
            inputs["logo"] = f"/{logo.name}"
        result = _compiler(template).compile(
            input=template, root=root, sys_inputs=inputs, **options
        )
    return cast(bytes | list[bytes], result)


def render_document_pdf(document: dict[str, Any]) -> bytes:
    """A tagged A4 PDF of an estimate or invoice.

    `document` is JSON-serialisable with money already formatted (see `sample.sample_document`
    for every key); `seller.logo_path`, when set, is an absolute path to a PNG, JPEG, GIF or
    WebP image (whatever its suffix).
    A missing logo file raises `FileNotFoundError`, one typst cannot decode `TypstError`:
    an issued document's PDF is frozen, so it is never rendered without its logo.
    """
    return cast(bytes, _compile(document, format="pdf"))


def render_typst_pdf(template: bytes, data: dict[str, Any]) -> bytes:
    """Another typst template rendered the same way (receivables' statement of account): the
    data as JSON in `sys.inputs.data`, `seller.logo_path` copied into an empty root."""
    return cast(bytes, _compile(data, template=template, format="pdf"))
