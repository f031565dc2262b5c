"""A settable clock for the throttles' ``timer``, so waits and windows are exact."""

from __future__ import annotations

__all__ = ["Clock"]


class Clock:
    """Called as ``self.timer()``: a callable object is not bound as a method."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
