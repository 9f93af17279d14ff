"""Domain exceptions; the CLI turns each into one line and exit status 1."""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the monitor reports to a user."""


class SnapshotError(MonitorError):
    """A snapshot file is malformed."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


class UrlError(MonitorError):
    """A URL cannot be watched."""


class NotFound(MonitorError):
    """An article or version asked for does not exist."""


class ConfigError(MonitorError):
    """The configuration is invalid."""


class FetchError(MonitorError):
    """A page could not be fetched or decoded."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient  # worth retrying (timeouts, 429, 5xx)
        self.status = status  # the HTTP status, when the server answered
        self.retry_after = retry_after  # seconds the server asked us to wait


class ExtractionError(MonitorError):
    """The page does not look like an article."""
