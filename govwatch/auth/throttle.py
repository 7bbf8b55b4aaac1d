"""Failed logins: throttled per account and per client address, summarised in the ledger.

The rule, for an account (the username as typed, known or not) and, separately, for a client
address: :data:`LIMIT` failed attempts within :data:`WINDOW` of the first refuse every further
attempt for a delay that doubles with each such episode (:data:`BASE_DELAY`, 2, 4 … up to
:data:`MAX_DELAY`; forgotten a day after the last episode ended, and for an account at its
next successful login). A refused attempt does not check the password at all, so it neither
costs an argon2 hash nor tells a guess from the right password. Attempts are counted when
they *start* (a success gives the count back), so that guesses sent in parallel cannot get
past the limit before the first of them fails.

The ledger gets one entry per episode (``auth.login_throttled``: scope, subject, failures,
until, strike) and one per account and window (``auth.login_failed``: failures, of which
``inactive`` on a disabled account, ``refused`` attempts, first and last moment, addresses),
written when the window closes: at the account's next successful login, or at the first
login attempt, by anyone, after the window's end. Until then the counts are in
``login_throttle``.

Moments are the real clock (:func:`govwatch.timeutil.wall_clock`), never the pinned one of
``GOVWATCH_NOW``, under which a delay would never end; ledger entries carry the caller's ``at``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson

from govwatch.auth.errors import AuthenticationError
from govwatch.ledger import ClaimLost, append_one, run_claimed
from govwatch.storage import Database

LIMIT = 5
WINDOW = timedelta(minutes=5)
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
STRIKES_FORGOTTEN = timedelta(days=1)
MAX_ADDRESSES = 10
ACCOUNT, ADDRESS = "account", "address"

_COLUMNS = (
    "window_start, failures, throttled_until, strikes, sum_start, sum_last, sum_failures, "
    "sum_inactive, sum_refused, sum_addresses, version"
)


T = TypeVar("T")
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def run_serialised(db: Database, work: Callable[[Database], T]) -> T:
    """Run a unit of work on the throttle's rows, one at a time per DuckDB file.

    A burst of attempts on one account all write the same two rows. PostgreSQL makes them
    wait for each other's row locks; DuckDB aborts all writers but one and the retries of a
    dozen collide again until they give up. The serving process is a DuckDB file's only
    writer, so a lock in the process serialises them completely.
    """
    if db.dialect != "duckdb":
        return run_claimed(db, work)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(db.url, threading.Lock())
    with lock:
        return run_claimed(db, work)


class LoginThrottled(AuthenticationError):
    """Too many failed logins: refused until ``until`` (HTTP 429 with ``Retry-After``)."""

    def __init__(self, message: str, until: datetime, retry_after: int) -> None:
        super().__init__(message)
        self.until = until
        self.retry_after = retry_after


@dataclass
class _State:
    scope: str
    subject: str
    window_start: datetime | None = None
    failures: int = 0
    throttled_until: datetime | None = None
    strikes: int = 0
    sum_start: datetime | None = None
    sum_last: datetime | None = None
    sum_failures: int = 0
    sum_inactive: int = 0
    sum_refused: int = 0
    sum_addresses: list[str] = field(default_factory=list)
    version: int | None = None  # None: not stored yet

    def throttled_at(self, moment: datetime) -> bool:
        return self.throttled_until is not None and moment < self.throttled_until

    def count(self, moment: datetime, address: str | None, *, refused: bool = False) -> None:
        """Add an attempt to the account's summary window."""
        if self.sum_start is None:
            self.sum_start = moment
        self.sum_last = moment
        if refused:
            self.sum_refused += 1
        known = address in self.sum_addresses
        if address and not known and len(self.sum_addresses) < MAX_ADDRESSES:
            self.sum_addresses.append(address)


def _load(tx: Database, scope: str, subject: str) -> _State:
    rows = tx.query(
        f"SELECT {_COLUMNS} FROM login_throttle WHERE scope = ? AND subject = ?", [scope, subject]
    )
    if not rows:
        return _State(scope, subject)
    return _state(scope, subject, rows[0])


def _state(scope: str, subject: str, row: Sequence[Any]) -> _State:
    (start, failures, until, strikes, s_start, s_last, s_fail, s_inact, s_ref, s_addr, ver) = row
    return _State(
        scope,
        subject,
        start,
        int(failures),
        until,
        int(strikes),
        s_start,
        s_last,
        int(s_fail),
        int(s_inact),
        int(s_ref),
        [str(a) for a in orjson.loads(str(s_addr))],
        int(ver),
    )


def _save(tx: Database, s: _State) -> None:
    values = [
        s.window_start,
        s.failures,
        s.throttled_until,
        s.strikes,
        s.sum_start,
        s.sum_last,
        s.sum_failures,
        s.sum_inactive,
        s.sum_refused,
        orjson.dumps(s.sum_addresses).decode(),
    ]
    if s.version is None:
        tx.execute(
            f"INSERT INTO login_throttle (scope, subject, {_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [s.scope, s.subject, *values],
        )
        s.version = 1
        return
    # Conditional on the version read: a concurrent attempt on the same subject retries.
    claimed = tx.query(
        "UPDATE login_throttle SET window_start = ?, failures = ?, throttled_until = ?, "
        "strikes = ?, sum_start = ?, sum_last = ?, sum_failures = ?, sum_inactive = ?, "
        "sum_refused = ?, sum_addresses = ?, version = version + 1 "
        "WHERE scope = ? AND subject = ? AND version = ? RETURNING version",
        [*values, s.scope, s.subject, s.version],
    )
    if not claimed:
        raise ClaimLost(f"login_throttle {s.scope} {s.subject} changed meanwhile")
    s.version = int(claimed[0][0])


def _summarise(tx: Database, s: _State, at: datetime) -> None:
    """The account's window in one ledger entry; the window starts afresh."""
    if s.sum_start is None:
        return
    append_one(
        tx,
        "auth.login_failed",
        s.subject[:64],
        s.subject[:128],
        at,
        {
            "failures": s.sum_failures,
            "inactive": s.sum_inactive,
            "refused": s.sum_refused,
            "first_at": s.sum_start.isoformat(),
            "last_at": (s.sum_last or s.sum_start).isoformat(),
            "addresses": s.sum_addresses,
        },
    )
    s.sum_start = s.sum_last = None
    s.sum_failures = s.sum_inactive = s.sum_refused = 0
    s.sum_addresses = []


def _close_expired(tx: Database, moment: datetime, at: datetime, keep: list[_State]) -> None:
    """Summarise every account window that has ended; forget subjects with nothing pending."""
    rows = tx.query(
        f"SELECT subject, {_COLUMNS} FROM login_throttle "
        "WHERE scope = ? AND sum_start IS NOT NULL AND sum_start <= ? ORDER BY sum_start",
        [ACCOUNT, moment - WINDOW],
    )
    for row in rows:
        expired = _state(ACCOUNT, str(row[0]), row[1:])
        _summarise(tx, expired, at)
        _save(tx, expired)
    # (rows of this attempt's subjects stay: DuckDB refuses re-inserting a key deleted in the
    # same transaction)
    skip = " ".join("AND NOT (scope = ? AND subject = ?)" for _ in keep)
    tx.execute(
        "DELETE FROM login_throttle WHERE sum_start IS NULL "
        "AND (window_start IS NULL OR window_start <= ?) "
        f"AND (throttled_until IS NULL OR throttled_until <= ?) {skip}",
        [
            moment - WINDOW,
            moment - STRIKES_FORGOTTEN,
            *[v for s in keep for v in (s.scope, s.subject)],
        ],
    )


def _subjects(tx: Database, account: str, address: str | None) -> list[_State]:
    states = [_load(tx, ACCOUNT, account)]
    if address:
        states.append(_load(tx, ADDRESS, address[:128]))
    return states


def _message(scopes: list[str], until: datetime, moment: datetime, *, failed: bool) -> str:
    who = "该账户及该地址"
    if set(scopes) == {ACCOUNT}:
        who = "该账户"
    elif set(scopes) == {ADDRESS}:
        who = "该地址"
    minutes = max(1, math.ceil((until - moment).total_seconds() / 60))
    prefix = "用户名或密码不正确，或账户已停用；" if failed else ""
    return (
        f"{prefix}登录失败次数过多（{int(WINDOW.total_seconds() // 60)} 分钟内 {LIMIT} 次），"
        f"{who}已暂停登录：请在 {until:%Y-%m-%d %H:%M:%S} 之后重试（约 {minutes} 分钟后）"
    )


def _refusal(
    scopes: list[str], until: datetime, moment: datetime, *, failed: bool
) -> LoginThrottled:
    seconds = max(1, math.ceil((until - moment).total_seconds()))
    return LoginThrottled(_message(scopes, until, moment, failed=failed), until, seconds)


def begin_attempt(
    tx: Database, account: str, address: str | None, moment: datetime, at: datetime
) -> LoginThrottled | None:
    """Count an attempt before its password is checked; the refusal if it may not be made.

    Runs inside the caller's transaction; the caller raises the refusal after committing (the
    refused attempt is counted in the account's window).
    """
    keep = [_State(ACCOUNT, account)] + ([_State(ADDRESS, address[:128])] if address else [])
    _close_expired(tx, moment, at, keep)
    states = _subjects(tx, account, address)
    for s in states:
        if s.window_start is not None and moment >= s.window_start + WINDOW:
            s.window_start, s.failures = None, 0
    blocked = [s for s in states if s.throttled_at(moment)]
    # LIMIT attempts still in flight fill the window: refuse until one of them is decided
    full = [s for s in states if s.failures >= LIMIT]
    if blocked or full:
        states[0].count(moment, address, refused=True)
        for s in states:
            _save(tx, s)
        until = max((s.throttled_until for s in blocked if s.throttled_until), default=None)
        scopes = [s.scope for s in (blocked or full)]
        return _refusal(scopes, until or moment + BASE_DELAY, moment, failed=False)
    for s in states:
        if s.window_start is None:
            s.window_start = moment
        s.failures += 1
        _save(tx, s)
    return None


def record_failure(
    tx: Database, account: str, address: str | None, reason: str, moment: datetime, at: datetime
) -> LoginThrottled | None:
    """A wrong password (or a disabled account): counted already; start an episode at the limit.

    Returns the refusal to answer with when this failure started one.
    """
    states = _subjects(tx, account, address)
    states[0].count(moment, address)
    states[0].sum_failures += 1
    states[0].sum_inactive += reason == "inactive"
    started: list[_State] = []
    for s in states:
        if s.failures >= LIMIT and not s.throttled_at(moment):
            last_end = s.throttled_until
            if last_end is not None and moment - last_end >= STRIKES_FORGOTTEN:
                s.strikes = 0
            s.strikes += 1
            delay = min(BASE_DELAY * 2 ** (s.strikes - 1), MAX_DELAY)
            s.throttled_until = moment + delay
            append_one(
                tx,
                "auth.login_throttled",
                account[:64],
                s.subject[:128],
                at,
                {
                    "scope": s.scope,
                    "failures": s.failures,
                    "window_start": (s.window_start or moment).isoformat(),
                    "until": s.throttled_until.isoformat(),
                    "strike": s.strikes,
                },
            )
            s.window_start, s.failures = None, 0
            started.append(s)
        _save(tx, s)
    if not started:
        return None
    until = max(s.throttled_until for s in started if s.throttled_until)
    return _refusal([s.scope for s in started], until, moment, failed=True)


def record_success(
    tx: Database, account: str, address: str | None, moment: datetime, at: datetime
) -> None:
    """A successful login: its account's window is summarised and its strikes forgotten; the
    address gets back the attempt counted for it (its other failures stand)."""
    states = _subjects(tx, account, address)
    mine = states[0]
    _summarise(tx, mine, at)
    mine.window_start, mine.failures, mine.strikes, mine.throttled_until = None, 0, 0, None
    _save(tx, mine)
    for s in states[1:]:
        if s.failures > 0:
            s.failures -= 1
            _save(tx, s)
