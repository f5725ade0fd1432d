"""A stand-in for a module's cancellation shield, for tests that count the shields entered.

Entering a shield costs a few microseconds when anyio is loaded, so the request paths enter
one only where there is I/O to protect; tests patch it in where a module looks the shield up
(``monkeypatch.setattr(module, "AsyncShieldCancellation", CountingShield)``).
"""

from __future__ import annotations


class CountingShield:
    """Counts the shields entered (``entered``, reset by ``counting()``); holds nothing off."""

    entered = 0

    @classmethod
    def counting(cls) -> type[CountingShield]:
        cls.entered = 0
        return cls

    def __enter__(self) -> CountingShield:
        CountingShield.entered += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass
