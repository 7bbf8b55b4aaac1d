"""The ledger's secret key and where it and the anchor file live: outside the database.

Whoever can write SQL can rewrite rows and recompute plain SHA-256 hashes; they cannot
compute an HMAC without the key, which the database never holds. The key is 32 random bytes
(64 hex digits in a file of mode 0600), created on the ledger's first append.

Where the files are (:func:`place_of`):

- ``GOVWATCH_LEDGER_KEY_FILE`` / ``GOVWATCH_LEDGER_ANCHOR_FILE`` name them for any database;
- otherwise a DuckDB file's sit beside it: ``govwatch.duckdb.ledger-key`` and
  ``govwatch.duckdb.ledger-anchors.jsonl``;
- a PostgreSQL database's sit in ``GOVWATCH_LEDGER_DIR`` (default
  ``$XDG_STATE_HOME/govwatch``, i.e. ``~/.local/state/govwatch``), named after the server,
  database and schema (``pg-HOST-PORT-DB-SCHEMA.ledger-key``);
- an in-memory DuckDB lives and dies with its process: its ledger is keyed with a key held in
  memory only, and it has no anchor file.

Every MAC is HMAC-SHA256 over a labelled message (``entry``, ``head``, ``anchor``, ``key-id``),
so that a MAC of one kind can never pass for another.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from govwatch.errors import GovwatchError
from govwatch.storage import Database
from govwatch.storage.address import MEMORY, duckdb_path

KEY_FILE_ENV = "GOVWATCH_LEDGER_KEY_FILE"
ANCHOR_FILE_ENV = "GOVWATCH_LEDGER_ANCHOR_FILE"
DIR_ENV = "GOVWATCH_LEDGER_DIR"
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The key of every in-memory database of this process (it cannot outlive them).
_PROCESS_KEY = secrets.token_bytes(32)


class LedgerKeyError(GovwatchError):
    """The ledger's key is missing, unreadable, or not the one its entries were signed with."""


@dataclass(frozen=True)
class LedgerPlace:
    """Where one database's ledger key and anchor file are (``anchors`` None: in memory)."""

    key_path: Path | None
    anchors: Path | None

    @property
    def in_memory(self) -> bool:
        return self.key_path is None


@dataclass(frozen=True)
class LedgerKey:
    secret: bytes = field(repr=False)
    key_id: str
    path: Path | None


def _state_dir() -> Path:
    configured = os.environ.get(DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "govwatch"


def _pg_name(db: Database) -> str:
    parsed = urlparse(db.url)
    dbname = unquote(parsed.path.lstrip("/")) or "postgres"
    parts = ("pg", parsed.hostname or "localhost", str(parsed.port or 5432), dbname)
    name = "-".join((*parts, db.schema or "public"))
    return _UNSAFE.sub("_", name)


def place_of(db: Database) -> LedgerPlace:
    """Where the key and the anchor file of ``db``'s ledger are (see the module's notes)."""
    key_env, anchor_env = os.environ.get(KEY_FILE_ENV), os.environ.get(ANCHOR_FILE_ENV)
    if db.dialect == "duckdb":
        path = duckdb_path(db.url)
        if path == MEMORY:
            return LedgerPlace(None, None)
        file = Path(path).expanduser().absolute()
        base, name = file.parent, file.name
    else:
        base, name = _state_dir(), _pg_name(db)
    return LedgerPlace(
        Path(key_env).expanduser() if key_env else base / f"{name}.ledger-key",
        Path(anchor_env).expanduser() if anchor_env else base / f"{name}.ledger-anchors.jsonl",
    )


def _key_id(secret: bytes) -> str:
    return hmac.new(secret, b"key-id", hashlib.sha256).hexdigest()[:16]


def _make(secret: bytes, path: Path | None) -> LedgerKey:
    return LedgerKey(secret, _key_id(secret), path)


def process_key() -> LedgerKey:
    """The key of in-memory databases."""
    return _make(_PROCESS_KEY, None)


def load_key(place: LedgerPlace) -> LedgerKey | None:
    """The key of this place, or None when its file does not exist."""
    if place.key_path is None:
        return process_key()
    path = place.key_path
    # read on every use (65 bytes): a key file replaced or removed shows at once
    try:
        text = path.read_text(encoding="ascii").strip().lower()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerKeyError(f"无法读取账本密钥文件 {path}：{exc}") from exc
    if not _HEX_KEY.match(text):
        raise LedgerKeyError(
            f"账本密钥文件 {path} 的内容无效：应为 64 位十六进制数字（32 字节随机数）"
        )
    return _make(bytes.fromhex(text), path)


def create_key(place: LedgerPlace) -> LedgerKey:
    """Create the key file (mode 0600) unless another process just did; return the key."""
    if place.key_path is None:
        return process_key()
    path = place.key_path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        # fails if the key appeared meanwhile: then that one is the key
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    key = load_key(place)
    if key is None:  # pragma: no cover - removed between link and read
        raise LedgerKeyError(f"账本密钥文件 {path} 创建后又消失了")
    return key


def key_file_mode(place: LedgerPlace) -> int | None:
    """The permission bits of the key file (None: in memory or missing)."""
    if place.key_path is None:
        return None
    try:
        return stat.S_IMODE(place.key_path.stat().st_mode)
    except FileNotFoundError:
        return None


def _mac(key: LedgerKey, label: bytes, message: bytes) -> str:
    return hmac.new(key.secret, label + b"\n" + message, hashlib.sha256).hexdigest()


def entry_mac(key: LedgerKey, prev_hash: str, body: bytes) -> str:
    """The ``hash`` of a keyed entry: HMAC over the previous hash and the entry's JSON."""
    return _mac(key, b"entry", prev_hash.encode() + b"\n" + body)


def head_mac(key: LedgerKey, seq: int, digest: str) -> str:
    """The MAC of the head (seq, hash): a head moved back to an older entry lacks its MAC."""
    return _mac(key, b"head", f"{seq}\n{digest}".encode())


def anchor_mac(key: LedgerKey, body: bytes) -> str:
    return _mac(key, b"anchor", body)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two MACs (None equals nothing)."""
    return a is not None and b is not None and hmac.compare_digest(a, b)
