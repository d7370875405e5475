"""The one shape of "a business rule said no": a catalog key naming the localized message, and the
parameters that fill it. Handlers show it; nothing has changed when it is raised."""

from __future__ import annotations


class Refused(ValueError):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
