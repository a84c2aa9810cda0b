"""Input checks shared by the calculators: each failure is a typed, fixable error."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .errors import InvalidInputError


def positive(name: str, value: float, *, upper: float | None = None, unit: str = "") -> float:
    """Return ``value`` as float if it is a finite number > 0 (and <= upper)."""
    number = _number(name, value)
    if number <= 0:
        raise InvalidInputError(
            f"{name} must be greater than 0, got {value!r}.", hint=f"pass a positive {name}."
        )
    if upper is not None and number > upper:
        raise InvalidInputError(
            f"{name}={value!r}{unit} is implausibly large (limit {upper:g}{unit}).",
            hint=f"check the units of {name}.",
        )
    return number


def non_negative(name: str, value: float, *, upper: float | None = None) -> float:
    number = _number(name, value)
    if number < 0:
        raise InvalidInputError(f"{name} must be 0 or more, got {value!r}.")
    if upper is not None and number > upper:
        raise InvalidInputError(f"{name}={value!r} is above the limit {upper:g}.")
    return number


def fraction(name: str, value: float, *, allow_zero: bool = False) -> float:
    """A share in (0, 1]; percentages like 40 are rejected with a hint."""
    number = _number(name, value)
    if number > 1 and number <= 100:
        raise InvalidInputError(
            f"{name} must be a fraction between 0 and 1, got {value!r}.",
            hint=f"write {number / 100:g} for {number:g}%.",
        )
    if number > 1 or number < 0 or (number == 0 and not allow_zero):
        raise InvalidInputError(f"{name} must be between 0 and 1, got {value!r}.")
    return number


def count(name: str, value: int, *, upper: int = 1_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")
    number = int(value)
    if number < 1:
        raise InvalidInputError(f"{name} must be at least 1, got {value!r}.")
    if number > upper:
        raise InvalidInputError(f"{name}={value!r} is above the limit {upper:,}.")
    return number


def choice(name: str, value: str, options: Iterable[str]) -> str:
    opts = list(options)
    key = str(value).strip().lower()
    if key not in opts:
        raise InvalidInputError(
            f"Unknown {name} {value!r}.", hint=f"use one of: {', '.join(opts)}."
        )
    return key


def _number(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a number, got {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError(f"{name} must be a finite number, got {value!r}.")
    return number
