"""The import's first stage (:func:`govwatch.events.checks.record_problem`) set-based.

``record_problem`` parses every record with orjson in Python, which costs more than all of
DuckDB's work on a chunk. Most records are plain: JSON objects DuckDB's reader takes, with
nothing in their text on which orjson and DuckDB could disagree. :data:`PLAIN_SQL` says so of
a staged record in SQL; only the others (a text DuckDB refuses, a possible ``NaN``, trailing
comma, huge number, control character or escape, a large, deep or many-keyed record) go
through ``record_problem`` itself, so that every verdict, field and message stays the one it
gives. For a plain record the number of distinct keys (``pre_keys``, against which the
duplicate-key check compares) is counted by DuckDB.

The test is conservative: a pattern that may be inside a string (``inf`` after a comma in a
text, an escaped quote) only sends the record to Python, it never decides its verdict.
"""

from __future__ import annotations

from govwatch.events.checks import MAX_DEPTH, MAX_RECORD_KEYS, timestamp_expr

# Bytes beyond which a record is judged in Python (size limit, depth: orjson's reading).
PLAIN_MAX_BYTES = 65_536
# Opening brackets beyond which the depth is checked in Python (a plain record has a few).
PLAIN_MAX_BRACKETS = 200
assert PLAIN_MAX_BRACKETS < MAX_DEPTH

# What DuckDB's JSON reader takes and orjson may refuse, or what record_problem looks at:
# control characters (raw) and their escapes (``\u00..``, ``\b``, ``\f``), DEL, escapes of
# surrogates (``\ud800``), NaN and Infinity in any case, a trailing comma, a number with a
# three-digit exponent or three hundred digits (beyond a double).
ODD_PATTERN = (
    r"[\x00-\x1f\x7f]|\\[bf]|\\u00|\\u[dD]"
    r"|[:\[,]\s*[-+]?(?i:nan|inf)"
    r"|,\s*[\]}]"
    r"|[:\[,]\s*-?[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]{3}"
    r"|[0-9]{300}"
)


def keys_sql(text: str = "text") -> str:
    """SQL: the keys of a record that is one JSON object DuckDB reads (of at most
    PLAIN_MAX_BYTES), else NULL; one parse of the text (a valid JSON text that starts with
    ``{`` is an object)."""
    return (
        f"CASE WHEN strlen({text}) <= {PLAIN_MAX_BYTES} AND starts_with({text}, '{{') "
        f"THEN try(json_keys({text})) END"
    )


def plain_sql(text: str = "text", keys: str = "keys") -> str:
    """SQL: the staged record (its ``keys`` from :func:`keys_sql`) needs no judging in
    Python."""
    return (
        f"coalesce({keys} IS NOT NULL AND len({keys}) <= {MAX_RECORD_KEYS} "
        f"AND strlen({text}) - strlen(replace(replace({text}, '{{', ''), '[', '')) "
        f"<= {PLAIN_MAX_BRACKETS} "
        f"AND NOT regexp_matches({text}, '{ODD_PATTERN}'), false)"
    )


def fast_timestamp_expr(col: str) -> str:
    """:func:`~govwatch.events.checks.timestamp_expr`, with its common case first.

    ``YYYY-MM-DDThh:mm:ss+08:00`` is Shanghai wall time as written, in every year Shanghai
    kept no daylight saving time (from 1992 on): read without the regular expressions and the
    time zone conversion. Every other text takes the general expression.
    """
    # LIKE first (a cheap test of the shape), then the digits (RE2's \d is ASCII 0-9)
    return (
        f"CASE WHEN {col} LIKE '____-__-__T__:__:__+08:00' "
        f"AND {col} >= '1992' AND {col} < '2100' "
        rf"AND regexp_full_match({col}, '\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00') "
        f"THEN try_cast(left({col}, 19) AS TIMESTAMP) "
        f"ELSE {timestamp_expr(col)} END"
    )
