"""Exercises with checkers that diagnose, never crash.

A learner fills in a function in a notebook cell; the next cell runs
``exercise.check(their_function)``. The checker calls it on several cases
(edge cases included), compares with the reference implementation, and
returns a ``CheckResult`` whose text is either a success line or the most
specific diagnosis it can find, in this order:

1. not implemented yet (the cell still raises ``NotImplementedError``);
2. it raised an exception, or returned ``None`` (a forgotten ``return``);
3. a *known mistake*: the answer equals what a typical wrong formula gives
   ("you forgot the bias", "the derivative of tanh is 1 - tanh², not 1 - tanh");
4. wrong shape ("expected (B, K) = (4, 3), got (3,)");
5. NaN or infinity where the reference is finite (an unstable formula);
6. the right values with the wrong sign, or off by a constant factor;
7. otherwise the first case and entry where the values differ.

``check`` never raises, so a notebook whose exercise is still unsolved runs
top to bottom (and under nbval).

When the environment variable ``NNLIB_GRADE_LOG`` names a file, ``check`` also
appends its result there as one line of JSON: that is how ``python -m nnlib.grade``
collects what each learner's notebook achieved, with the very checkers the
learner ran. The topic modules in this package
(``nnlib.exercises.neurons``, ...) define the course's exercises; published
solutions live in the repository's ``solutions/`` folder.
"""

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "Mistake", "Exercise", "CheckResult", "only_if_finite", "GRADE_LOG"]

GRADE_LOG = "NNLIB_GRADE_LOG"  # the environment variable that names the grader's log file


class _AdaptError(Exception):
    pass


@dataclass(frozen=True)
class Case:
    """One call of the learner's function: positional arguments and a readable label."""

    args: tuple
    label: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: ``wrong(*args)`` computes it, ``hint`` explains it."""

    wrong: Callable[..., Any]
    hint: str


def only_if_finite(wrong):
    """``wrong``, recognised as a mistake only on the cases where its answer is finite.

    Where a wrong formula also overflows (NaN or infinity), its answer would match every
    other unstable answer; the checker's overflow diagnosis explains those better.
    """
    def finite_wrong(*args, **kwargs):
        out = wrong(*args, **kwargs)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError("not a finite answer")  # the checker skips this mistake
        return out
    return finite_wrong


@dataclass(frozen=True)
class CheckResult:
    """What a checker found. ``passed`` is True only if every case matched."""

    passed: bool
    message: str
    diagnosis: str = "correct"  # a short key: tests assert on it

    def __repr__(self):
        return self.message

    def __bool__(self):
        return self.passed


def _log_for_grader(name, result):
    """Append ``result`` to the grader's log, when ``python -m nnlib.grade`` runs this kernel."""
    path = os.environ.get(GRADE_LOG)
    if not path:
        return
    record = {"exercise": name, "passed": result.passed, "diagnosis": result.diagnosis,
              "message": result.message}
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
    except OSError:  # grading is a side channel: the learner's check still reports
        pass


class Exercise:
    """A function to write, its reference, the cases it is checked on and known mistakes.

    Args:
        name: the function's name as the notebook defines it.
        reference: the correct implementation.
        cases: ``Case`` objects; include edge cases (batch 1, zeros, large inputs).
        mistakes: ``Mistake`` objects, checked in order.
        shape_names: optional names for the output's axes, e.g. ``("B", "K")``.
        sign_hint / scale_hint: wording for a sign flip or a constant factor.
        adapt: turns an answer with structure (a pair ``(w, b)``, say) into one
            array before comparing; if it raises, ``adapt_hint`` is shown.
        parts: for a tuple answer that ``adapt`` flattens in order, the names of its
            members (``("dx", "dw", "db")``), so that a wrong value is reported as
            "dw is wrong at index (0, 2)" rather than as a position in the flat array.
        rtol, atol: tolerances for "equal".
    """

    def __init__(self, name, reference, cases, mistakes=(), shape_names=None,
                 sign_hint="the values have the wrong sign",
                 scale_hint="the values are off by a constant factor of {factor:.3g}",
                 adapt=None, adapt_hint="the answer does not have the expected form",
                 parts=None, rtol=1e-6, atol=1e-8):
        if not cases:
            raise ValueError(f"exercise {name!r} needs at least one case")
        self.name = name
        self.reference = reference
        self.cases = tuple(cases)
        self.mistakes = tuple(mistakes)
        self.shape_names = shape_names
        self.sign_hint = sign_hint
        self.scale_hint = scale_hint
        self.adapt = adapt
        self.adapt_hint = adapt_hint
        self.parts = tuple(parts) if parts else None
        self.rtol, self.atol = rtol, atol

    def check(self, fn):
        """Run ``fn`` on every case and diagnose the first failure; never raises."""
        result = self._check(fn)
        _log_for_grader(self.name, result)
        return result

    def _check(self, fn):
        try:
            for case in self.cases:
                failure = self._check_case(fn, case)
                if failure is not None:
                    return failure
        except Exception as error:  # a checker must never break the learner's notebook
            return self._fail("checker-error", None,
                              f"the checker itself failed ({type(error).__name__}: {error}); "
                              "please report this")
        labels = ", ".join(case.label for case in self.cases)
        return CheckResult(True, f"✔ {self.name}: correct on all {len(self.cases)} cases "
                                 f"({labels}).")

    # -- one case ----------------------------------------------------------------------------

    def _call(self, fn, case):
        """``fn`` on a fresh copy of the case's arguments, its answer passed through ``adapt``."""
        with np.errstate(all="ignore"):
            out = fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        if out is None or self.adapt is None:
            return out
        try:
            return self.adapt(out)
        except Exception as error:
            raise _AdaptError from error

    def _answer(self, fn, case, call=None, forgot="`return`"):
        """``(answer, None)``, or ``(None, failure)`` when ``fn`` is unsolved, raises, or
        returns None. ``call(fn, case)`` runs it (``self._call`` unless given)."""
        try:
            got = (call or self._call)(fn, case)
        except _AdaptError:
            return None, self._fail("form", case, self.adapt_hint)
        except NotImplementedError:
            name = getattr(fn, "__name__", self.name)
            return None, self._fail("not-implemented", None,
                                    f"not implemented yet: replace `raise NotImplementedError` "
                                    f"in `{name}` with your code, then run this cell again")
        except Exception as error:
            return None, self._fail("raised", case, f"your function raised "
                                                    f"{type(error).__name__}: {error}")
        if got is None:
            return None, self._fail("returned-none", case, f"your function returned None: did "
                                                           f"you forget {forgot}?")
        return got, None

    def _check_case(self, fn, case):
        got, failure = self._answer(fn, case)
        if failure is not None:
            return failure
        expected = self._call(self.reference, case)
        if self._equal(got, expected):
            return None

        for mistake in self.mistakes:
            try:
                wrong = self._call(mistake.wrong, case)
            except Exception:
                continue
            if self._equal(got, wrong):
                return self._fail("mistake", case, mistake.hint)

        got_arr, expected_arr = self._as_array(got), np.asarray(expected, dtype=float)
        if got_arr is None:
            return self._fail("type", case, f"expected a number or an array like "
                                            f"{type(expected).__name__}, got {type(got).__name__}")
        if got_arr.shape != expected_arr.shape:
            return self._fail("shape", case, f"wrong shape: expected "
                                             f"{self._shape(expected_arr.shape)}, got "
                                             f"{tuple(got_arr.shape)}")
        if np.all(np.isfinite(expected_arr)) and not np.all(np.isfinite(got_arr)):
            return self._fail("not-finite", case,
                              "your result contains NaN or infinity where the answer is finite: "
                              "look for an overflow (exp of a large number?) or a division by "
                              "zero, and use a numerically stable form")
        if np.any(expected_arr != 0) and self._equal(got_arr, -expected_arr):
            return self._fail("sign", case, self.sign_hint)
        factor = self._constant_factor(got_arr, expected_arr)
        if factor is not None:
            return self._fail("scale", case, self.scale_hint.format(factor=factor))
        named = self._named_difference(got_arr, expected_arr, case)
        return self._fail("values", case,
                          named or self._first_difference(got_arr, expected_arr))

    # -- helpers -----------------------------------------------------------------------------

    def _fail(self, diagnosis, case, text):
        where = f" on case {case.label}" if case is not None else ""
        text = text.rstrip(".")
        end = "" if text.endswith(("?", "!")) else "."
        return CheckResult(False, f"✘ {self.name}{where}: {text}{end}", diagnosis)

    @staticmethod
    def _as_array(value):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
        return arr

    def _equal(self, a, b):
        a, b = self._as_array(a), self._as_array(b)
        if a is None or b is None or a.shape != b.shape:
            return False
        return bool(np.allclose(a, b, rtol=self.rtol, atol=self.atol, equal_nan=True))

    def _shape(self, shape):
        if self.shape_names and len(self.shape_names) == len(shape):
            return f"({', '.join(self.shape_names)}) = {tuple(shape)}"
        return str(tuple(shape))

    def _constant_factor(self, got, expected):
        mask = np.abs(expected) > self.atol
        if mask.sum() < 2:  # one number is always "some factor" off: not a diagnosis
            return None
        ratios = got[mask] / expected[mask]
        factor = float(np.median(ratios))
        if abs(factor - 1) < 1e-9 or not np.isfinite(factor) or factor == 0:
            return None
        return factor if self._equal(got, factor * expected) else None

    def _named_difference(self, got, expected, case):
        """The first wrong value named by its member of a tuple answer (``parts``), or None."""
        if not self.parts or got.ndim != 1:
            return None
        with np.errstate(all="ignore"):
            raw = self.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        shapes = [np.shape(member) for member in raw]
        sizes = [int(np.prod(shape)) for shape in shapes]
        if len(shapes) != len(self.parts) or sum(sizes) != got.size:
            return None
        diff = ~np.isclose(got, expected, rtol=self.rtol, atol=self.atol, equal_nan=True)
        i, start = int(np.argmax(diff)), 0
        for name, shape, size in zip(self.parts, shapes, sizes, strict=True):
            if i < start + size:
                index = tuple(int(j) for j in np.unravel_index(i - start, shape)) if shape else ()
                at = f" at index {index}" if index else ""
                return (f"{name} is wrong{at}: expected {float(expected[i]):.6g}, "
                        f"got {float(got[i]):.6g}")
            start += size
        return None

    @staticmethod
    def _first_difference(got, expected):
        diff = ~np.isclose(got, expected, rtol=1e-6, atol=1e-8, equal_nan=True)
        index = tuple(int(i) for i in np.argwhere(diff)[0]) if got.ndim else ()
        at = f" at index {index}" if index else ""
        return (f"wrong values{at}: expected {float(expected[index]):.6g}, "
                f"got {float(got[index]):.6g}")
