"""Database addresses: how ``--db`` (or ``GOVWATCH_DB``) names a database.

Accepted, in the SQLAlchemy style for DuckDB:

==================================  =====================================================
``postgresql://user@host/db``       PostgreSQL (``postgres://`` too; ``?schema=NAME``)
``duckdb:///relative/file.duckdb``  a DuckDB file relative to the working directory
``duckdb:////absolute/file.duckdb`` a DuckDB file at an absolute path (four slashes)
``file.duckdb``, ``/abs/file.duckdb`` a plain path, relative or absolute (``~`` expands)
``:memory:``, ``duckdb:///:memory:`` an in-memory DuckDB
==================================  =====================================================

After ``duckdb://`` comes the host part (empty), then ``/``, then the path: three slashes
leave a relative path, a fourth begins an absolute one. ``duckdb:///tmp/x.duckdb`` is therefore
``tmp/x.duckdb`` under the working directory, which is rarely what its writer meant when
``/tmp`` exists: :func:`misread_absolute` says so, and the command line warns.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from govwatch.errors import InputError

DUCKDB_PREFIX = "duckdb:///"
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
MEMORY = ":memory:"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def duckdb_path(url: str) -> str:
    """The file a DuckDB address names (``:memory:`` for an in-memory database).

    Raises :class:`InputError` for an address of another kind (``mysql://…``), which would
    otherwise become a strange directory name.
    """
    if url.startswith(DUCKDB_PREFIX):
        path = url[len(DUCKDB_PREFIX) :]
    elif url.startswith("duckdb://"):
        path = url[len("duckdb://") :]
    else:
        scheme = _SCHEME.match(url)
        if scheme is not None:
            raise InputError(
                f"数据库地址 {url} 的类型“{scheme.group('scheme')}”不受支持：应为 "
                "duckdb:///相对路径、duckdb:////绝对路径、文件路径或 postgresql://…"
            )
        path = url
    if not path or path == MEMORY:
        return MEMORY
    return os.path.expanduser(path)


def misread_absolute(url: str) -> tuple[str, str] | None:
    """``(relative reading, four-slash address)`` when a ``duckdb:///`` address looks meant as
    absolute: its first directory exists at the root (``duckdb:///tmp/x.duckdb`` with ``/tmp``)
    and reading it relative names another file. None otherwise.
    """
    if not url.startswith(DUCKDB_PREFIX):
        return None
    rest = url[len(DUCKDB_PREFIX) :]
    if not rest or rest.startswith(("/", "~")) or rest == MEMORY:
        return None
    first = rest.split("/", 1)[0]
    if first in (".", "..") or "/" not in rest or not Path("/", first).is_dir():
        return None
    if Path(rest).resolve() == Path("/", rest).resolve():
        return None  # the working directory is the root: both readings are the same file
    return rest, f"duckdb:////{rest}"
