"""Attachments of answers: what a file may be, how it is stored, how it is read back.

A department attaches files to a 情况说明, a 申诉, a 整改报告 (alert transitions, owner kind
``alert``) or a reply to a supervision order (owner kind ``order``). Files are rows of the
``attachments`` table (content in Base64, with its SHA-256, which the transition row and the
ledger entry record): they live in the database, never under the web app's static files, and
are served only through a route that checks the reader's scope, as a download.

What is accepted is decided here, once, for the pages (multipart upload) and the API (Base64):

- at most :data:`MAX_FILES` files per answer, each at most :data:`MAX_ATTACHMENT_BYTES`;
- only the types of :data:`ALLOWED` (PDF, OFD, images, Word, Excel, WPS, plain text), by the
  file name's extension, and the content must look like that type (a ``.pdf`` must start
  with ``%PDF-``): a renamed program is refused. The stored content type is the one the
  extension implies, not what the browser claimed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from govwatch.auth.errors import NotFoundError
from govwatch.auth.passwords import new_id
from govwatch.errors import InputError
from govwatch.storage import Database

MAX_ATTACHMENT_BYTES = 5 * 2**20
MAX_FILES = 5
MAX_NAME_CHARS = 120

_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: its Chinese name, content type and leading bytes."""

    name: str
    content_type: str
    magic: tuple[bytes, ...]  # the content starts with one of these; () = text


ALLOWED: dict[str, FileType] = {
    "pdf": FileType("PDF 文档", "application/pdf", (b"%PDF-",)),
    "ofd": FileType("OFD 版式文档", "application/ofd", _ZIP),
    "png": FileType("PNG 图片", "image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": FileType("JPEG 图片", "image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": FileType("JPEG 图片", "image/jpeg", (b"\xff\xd8\xff",)),
    "doc": FileType("Word 文档", "application/msword", _OLE),
    "docx": FileType(
        "Word 文档",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ZIP,
    ),
    "xls": FileType("Excel 表格", "application/vnd.ms-excel", _OLE),
    "xlsx": FileType(
        "Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP
    ),
    "wps": FileType("WPS 文字文档", "application/vnd.ms-works", _OLE + _ZIP),
    "txt": FileType("文本文件", "text/plain; charset=utf-8", ()),
}
# What the upload field offers (the browser's file chooser filter).
ACCEPT = ",".join(f".{ext}" for ext in ALLOWED)
ALLOWED_TEXT = "PDF、OFD、图片（PNG/JPEG）、Word、Excel、WPS 文档和文本文件"
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Attachment:
    """A file to attach, as received (name, the type the sender claimed, bytes)."""

    name: str
    content_type: str
    content: bytes


def size_text(size_bytes: int) -> str:
    """1536 → '1.5 KB', 5242880 → '5.0 MB' (for messages and lists)."""
    if size_bytes < 1024:
        return f"{size_bytes} 字节"
    if size_bytes < 2**20:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / 2**20:.1f} MB"


def with_size_text(refs: object) -> list[dict[str, Any]]:
    """Attachment references as a transition row stores them (JSON text or a list), each with
    its ``size_text`` for the pages."""
    if isinstance(refs, str | bytes):
        refs = orjson.loads(refs) if refs else []
    if not isinstance(refs, list):
        return []
    return [r | {"size_text": size_text(int(r.get("size_bytes", 0)))} for r in refs]


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def check_attachment(f: Attachment) -> Attachment:
    """The file as it will be stored (clean name, the content type its extension implies), or
    an :class:`InputError` in Chinese saying what is wrong and what is accepted."""
    name = _BAD_NAME.sub("_", f.name.strip()).strip(". ")
    if not name:
        raise InputError("附件缺少文件名")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(f"附件文件名过长（{len(name)} 个字符）：不能超过 {MAX_NAME_CHARS} 个字符")
    kind = ALLOWED.get(_extension(name))
    if kind is None:
        raise InputError(f"附件“{name}”的类型不允许上传：只接受 {ALLOWED_TEXT}")
    if not f.content:
        raise InputError(f"附件“{name}”是空文件")
    if len(f.content) > MAX_ATTACHMENT_BYTES:
        raise InputError(
            f"附件“{name}”大小为 {size_text(len(f.content))}，"
            f"超过 {size_text(MAX_ATTACHMENT_BYTES)} 上限"
        )
    if kind.magic and not f.content.startswith(kind.magic):
        raise InputError(f"附件“{name}”的内容不是{kind.name}：文件可能已损坏或扩展名被改动")
    if not kind.magic:
        try:
            f.content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                f.content.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"附件“{name}”不是可读的文本文件（应为 UTF-8 或 GBK 编码）"
                ) from exc
    return Attachment(name, kind.content_type, f.content)


def check_attachments(files: Sequence[Attachment]) -> list[Attachment]:
    """Every file checked, and no more than :data:`MAX_FILES` of them."""
    if len(files) > MAX_FILES:
        raise InputError(f"一次最多上传 {MAX_FILES} 个附件，收到 {len(files)} 个")
    return [check_attachment(f) for f in files]


def store_attachments(
    db: Database,
    owner_kind: str,
    owner_id: str,
    files: Sequence[Attachment],
    actor: str,
    at: datetime,
) -> list[dict[str, Any]]:
    """Check and store the files inside the caller's unit of work; their references
    (``attachment_id``, ``name``, ``size_bytes``, ``sha256``) for the transition row."""
    stored = []
    for f in check_attachments(files):
        attachment_id = new_id()
        sha = hashlib.sha256(f.content).hexdigest()
        db.execute(
            "INSERT INTO attachments (attachment_id, owner_kind, owner_id, name, content_type, "
            "size_bytes, sha256, content_base64, uploaded_by, uploaded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                attachment_id,
                owner_kind,
                owner_id,
                f.name,
                f.content_type,
                len(f.content),
                sha,
                base64.b64encode(f.content).decode(),
                actor,
                at,
            ],
        )
        stored.append(
            {
                "attachment_id": attachment_id,
                "name": f.name,
                "size_bytes": len(f.content),
                "sha256": sha,
            }
        )
    return stored


@dataclass(frozen=True)
class StoredFile:
    attachment_id: str
    owner_kind: str
    owner_id: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"size_text": size_text(self.size_bytes)}


_META = (
    "attachment_id, owner_kind, owner_id, name, content_type, size_bytes, sha256, uploaded_by, "
    "uploaded_at"
)


def stored_file(db: Database, attachment_id: str) -> tuple[StoredFile, bytes]:
    """One stored file and its bytes (no scope check: callers check the owner's scope)."""
    rows = db.query(
        f"SELECT {_META}, content_base64 FROM attachments WHERE attachment_id = ?",
        [attachment_id],
    )
    if not rows:
        raise NotFoundError(f"附件“{attachment_id}”不存在")
    *meta, content = rows[0]
    return StoredFile(*meta), base64.b64decode(str(content))


def owner_files(
    db: Database, owner_kind: str, owner_ids: Sequence[str]
) -> dict[str, list[StoredFile]]:
    """The files of these owners, each owner's in upload order."""
    if not owner_ids:
        return {}
    found: dict[str, list[StoredFile]] = {}
    for row in db.query(
        f"SELECT {_META} FROM attachments WHERE owner_kind = ? AND owner_id = ANY(?) "
        "ORDER BY uploaded_at, attachment_id",
        [owner_kind, list(owner_ids)],
    ):
        f = StoredFile(*row)
        found.setdefault(f.owner_id, []).append(f)
    return found
