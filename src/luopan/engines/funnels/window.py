"""Conversion windows and cohort periods: ``"90s"``, ``"30m"``, ``"14d"``, ``"2w"``, ``"1mo"``."""

from __future__ import annotations

import re

from luopan.errors import ConfigError

__all__ = ["UNITS", "parse_window"]

# seconds per unit; a month is 30 days (PostHog funnelWindowIntervalUnit "month")
UNITS: dict[str, int] = {
    "s": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "mo": 30 * 86400,
}
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|min|m|h|d|w|mo)\s*$")


def parse_window(window: str | int) -> int:
    """Seconds in a window such as ``"14d"`` (units s, m/min, h, d, w, mo = 30 days).

    Raises:
        ConfigError: the text is not a positive number followed by a unit.
    """
    if isinstance(window, bool):
        raise ConfigError(f"invalid window {window!r}", fix="write it like 14d, 30m or 2w")
    if isinstance(window, int):
        if window <= 0:
            raise ConfigError(f"window must be positive, got {window}", fix="use e.g. 14d")
        return window
    match = _PATTERN.match(str(window))
    if not match or int(match.group(1)) == 0:
        raise ConfigError(
            f"invalid window {window!r}",
            fix="write a positive number and a unit: s, m, h, d, w or mo (e.g. 14d, 30m)",
        )
    return int(match.group(1)) * UNITS[match.group(2)]
