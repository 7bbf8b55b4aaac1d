"""Which encoding a page is in, and its text.

Government portals still serve pages in GB2312, GBK or GB18030, often with the charset only in
a ``<meta>`` tag and sometimes with none at all. The order of evidence follows the HTML
standard's sniffing, simplified: a byte-order mark, then the HTTP ``Content-Type`` charset,
then a ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` in the first 4 KB, then the
portal configuration's ``encoding``, then UTF-8 if the bytes are valid UTF-8, else GB18030.
GB2312 and GBK are read as GB18030, their superset: a page labelled GB2312 routinely holds
GBK-only characters (生僻字 in names), which a strict GB2312 decoder would reject.
"""

from __future__ import annotations

import codecs
import re

_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "iso-8859-1": "cp1252",  # as browsers do
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I
)  # both <meta charset=…> and http-equiv's content="text/html; charset=…"
SNIFF_BYTES = 4096


def normalise(label: str | None) -> str | None:
    """A known codec name for a charset label, GB2312/GBK widened to GB18030; None if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def from_header(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalise(match.group(1)) if match else None


def from_meta(body: bytes) -> str | None:
    match = _META.search(body[:SNIFF_BYTES])
    return normalise(match.group(1).decode("ascii", "replace")) if match else None


def detect(body: bytes, content_type: str | None, fallback: str | None = None) -> str:
    """The encoding to read ``body`` with (see the module docstring for the order)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    named = from_header(content_type) or from_meta(body) or normalise(fallback)
    if named:
        return named
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def decode(body: bytes, content_type: str | None, fallback: str | None = None) -> tuple[str, str]:
    """``(text, encoding)``; bytes the encoding cannot read become U+FFFD rather than failing
    the page (the evidence keeps the original bytes and their hash)."""
    encoding = detect(body, content_type, fallback)
    return body.decode(encoding, errors="replace"), encoding
