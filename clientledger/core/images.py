"""Images people upload (agency logos): what they really are, whatever their name says."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from PIL import Image

__all__ = ["IMAGE_SUFFIXES", "image_suffix"]

# The formats the PDF renderer (typst), browsers and email clients all display, with the
# suffix each is stored under: typst and the media server go by the suffix, not the content.
IMAGE_SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}


def image_suffix(source: str | Path | IO[bytes]) -> str | None:
    """The suffix of the image's real format, or None when it is not an intact image in one
    of IMAGE_SUFFIXES' formats. A file object is read and then rewound."""
    try:
        # Only the decoders of the formats we keep are tried: no exotic parser sees the bytes.
        with Image.open(source, formats=list(IMAGE_SUFFIXES)) as image:
            image.verify()
            return IMAGE_SUFFIXES[image.format or ""]
    except (OSError, SyntaxError, ValueError, KeyError, Image.DecompressionBombError):
        return None
    finally:
        if not isinstance(source, str | Path):
            source.seek(0)
