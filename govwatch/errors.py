"""The root of every error govwatch raises on purpose.

Messages are for the people who run govwatch: they say what was wrong and how to mend it,
in Chinese, on one line.
"""

from __future__ import annotations


class GovwatchError(Exception):
    """Any expected failure: bad input, a busy database, a refused operation."""


class InputError(GovwatchError):
    """A file or value given by the user cannot be used as it is."""


class DatabaseBusyError(GovwatchError):
    """The DuckDB file is opened by another process."""


class ValidationError(InputError):
    """A record or definition breaks the contract; names the record, field and expectation."""

    def __init__(self, message: str, *, field: str = "", record: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.record = record
