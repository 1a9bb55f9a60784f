"""Errors services raise; the HTTP layer and the CLI each present them their own way."""

from typing import Any


class InvalidContentError(Exception):
    """The data passed validation of its shape but not of its meaning (HTTP 422)."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Invalid content.") -> None:
        super().__init__(message)
        self.errors: dict[str, Any] = errors
