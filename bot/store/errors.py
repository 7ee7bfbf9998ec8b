"""What can go wrong in the store, said in words a person running the bot can act on."""

from __future__ import annotations

import sqlite3

# SQLite primary result codes (the low byte of sqlite_errorcode) -> reason code and explanation.
_REASONS_BY_CODE: dict[int, tuple[str, str]] = {
    5: ("locked", "the database is locked by another connection or process"),  # SQLITE_BUSY
    6: ("locked", "a table is locked by another statement"),  # SQLITE_LOCKED
    8: ("read_only", "the database file is read-only"),  # SQLITE_READONLY
    9: ("interrupted", "the query ran past its time budget and was stopped"),  # SQLITE_INTERRUPT
    10: ("io", "the disk reported an I/O error"),  # SQLITE_IOERR
    11: ("corrupt", "the database file is corrupt"),  # SQLITE_CORRUPT
    13: ("disk_full", "the disk (or the database size limit) is full"),  # SQLITE_FULL
    14: ("cannot_open", "the database file cannot be opened"),  # SQLITE_CANTOPEN
    26: ("corrupt", "the file is not an SQLite database"),  # SQLITE_NOTADB
}


class StoreError(Exception):
    """A storage operation failed; `operation` names what we were doing, `reason` is a short code
    (`locked`, `interrupted`, `disk_full`, `read_only`, `io`, `corrupt`, `cannot_open`, `invalid`, `closed`,
    `wrong_thread`, `schema_too_new`, `migration`, `error`)."""

    def __init__(self, operation: str, message: str, *, reason: str = "error") -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation
        self.reason = reason


class SchemaTooNewError(StoreError):
    """The database was written by a newer paperbot; opening it could corrupt data."""

    def __init__(self, path: str, database_version: int, known_version: int) -> None:
        super().__init__(
            "opening the database",
            f"{path} has schema version {database_version}, but this paperbot only knows "
            f"versions up to {known_version}; upgrade paperbot or point storage.path at "
            "another file",
            reason="schema_too_new",
        )
        self.database_version = database_version
        self.known_version = known_version


def describe_sqlite_error(exc: sqlite3.Error) -> tuple[str, str]:
    """(reason code, explanation) for an sqlite3 error."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _REASONS_BY_CODE:
        reason, explanation = _REASONS_BY_CODE[code & 0xFF]
        return reason, f"{explanation} ({exc})"
    return "error", str(exc)


def store_error_from(operation: str, exc: sqlite3.Error) -> StoreError:
    """Turn a raw sqlite3 error into a StoreError naming the operation; chain it with `from exc`."""
    reason, explanation = describe_sqlite_error(exc)
    return StoreError(operation, explanation, reason=reason)
