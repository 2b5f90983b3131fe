"""Argument checks shared by the whole package: one place for "what was expected, what came".

Every public function of nnlib checks what it is given and fails with a message that
names the argument, what was expected and what was received (``../shared/API.md``,
"Bad input"), never with a numpy broadcasting error from deep inside. These are the
checks that several modules need; a check that only one module needs lives there.
Numpy and the standard library only.
"""

import math
import numbers

import numpy as np

__all__ = ["as_float_array", "as_real_number", "check_int", "check_positive_int", "check_float",
           "seeded_rng"]


def as_float_array(x, name="x", allow_bool=False):
    """``x`` as a float64 ndarray; any real array-like is accepted.

    Raises a ``TypeError`` naming ``name`` for booleans (unless ``allow_bool``),
    complex numbers, strings and objects, and a ``ValueError`` for ragged lists.
    """
    try:
        arr = np.asarray(x)
    except ValueError as err:  # e.g. a ragged nested list
        raise ValueError(f"{name} must be a rectangular array of real numbers: {err}") from None
    is_real = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if arr.dtype == np.bool_ and not allow_bool:
        raise TypeError(
            f"{name} must hold real numbers, got a boolean array; "
            f"use {name}.astype(float) if you mean 0 and 1"
        )
    if not (is_real or arr.dtype == np.bool_):
        raise TypeError(
            f"{name} must hold real numbers (an integer or float dtype), got dtype {arr.dtype}"
        )
    return arr.astype(np.float64, copy=False)


def as_real_number(value, name):
    """``value`` as a Python float; a ``TypeError`` naming ``name`` unless it is a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, or a ``ValueError`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """``value`` as an int, or a ``ValueError`` unless it is an integer >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_float(name: str, value, minimum: float, *, strict: bool = False) -> float:
    """``value`` as a float, or a ``ValueError`` unless it is finite and >= (or >) ``minimum``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        sign = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {sign} {minimum}, got {value!r}")
    return float(value)


def seeded_rng(seed) -> np.random.Generator:
    """numpy's generator for ``seed`` (an integer >= 0, or None for fresh entropy)."""
    if seed is not None:
        check_int("seed", seed, 0)
    return np.random.default_rng(seed)
