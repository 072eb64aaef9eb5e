"""Image sizes read from file headers, so that a decompression bomb is refused before decoding.

Covers PNG, JPEG, BMP, GIF, WebP and PNM; for other formats OpenCV's own pixel limit applies.
"""

from __future__ import annotations

import os
import re
import struct

__all__ = ["DEFAULT_MAX_PIXELS", "header_size", "max_pixels"]

#: 2**28 pixels: a 16384x16384 image, 768 MiB as BGR.
DEFAULT_MAX_PIXELS = 1 << 28
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


def max_pixels(configured: int | None = None) -> int:
    """The pixel cap: ``configured``, else ``$WASINN_MAX_PIXELS``, else the default (2**28)."""
    if configured is not None:
        return configured
    text = os.environ.get("WASINN_MAX_PIXELS", "")
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_PIXELS


def header_size(data: bytes) -> tuple[int, int] | None:
    r"""``(width, height)`` from an image's header, or ``None`` when the format is not covered.

    Example:
        >>> png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (100000).to_bytes(4, "big") * 2
        >>> header_size(png)
        (100000, 100000)
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data.startswith(b"BM"):
            width, height = struct.unpack("<ii", data[18:26])
            return abs(width), abs(height)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            return _webp(data)
        if re.match(rb"P[1-6]\s", data[:3]):
            found = re.match(rb"P[1-6](?:\s+|#[^\n]*\n)+(\d+)\s+(\d+)", data[:1024])
            return (int(found[1]), int(found[2])) if found else None
    except struct.error:
        return None
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            at += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None
