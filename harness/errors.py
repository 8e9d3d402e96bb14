"""Errors the harness reports to its user, and the exit codes of the command line (DESIGN.md)."""

from __future__ import annotations

EXIT_PASS = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3


class UsageError(Exception):
    """Bad input from the user: the command line prints the one-line message and exits 2.

    ``details`` holds anything longer (a compiler's full output), shown after the line.
    """

    def __init__(self, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.details = details
