"""Distributions in the form the compiled kernels draw from, and order statistics of a sample.

A :class:`~twinverse.sim.line.model.Dist` becomes a code and three floats with the
derived parameters precomputed (``mu``/``sigma`` of a lognormal, shape/scale of a
gamma), so :func:`draw` is one branch and one or two generator calls. Draws use a
``numpy.random.Generator`` (numba compiles its ziggurat normal and exponential,
several times faster than the legacy ``np.random`` samplers).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit

from twinverse.sim.line.model import Dist
from twinverse.twin.distribution import DistKind

CONSTANT: Final = 0
EXPONENTIAL: Final = 1
NORMAL: Final = 2
LOGNORMAL: Final = 3
GAMMA: Final = 4
UNIFORM: Final = 5
TRIANGULAR: Final = 6
WEIBULL: Final = 7
NONE: Final = -1  # no distribution (no arrivals, no failures)


def encode(dist: Dist | None) -> tuple[int, tuple[float, float, float]]:
    """The kernel code and parameters of ``dist`` (degenerate laws become constants)."""
    if dist is None:
        return NONE, (0.0, 0.0, 0.0)
    p = dist.params
    match dist.kind:
        case DistKind.CONSTANT:
            return CONSTANT, (p[0], 0.0, 0.0)
        case DistKind.EXPONENTIAL:
            return EXPONENTIAL, (p[0], 0.0, 0.0)
        case DistKind.NORMAL:
            return (CONSTANT, (p[0], 0.0, 0.0)) if p[1] == 0 else (NORMAL, (p[0], p[1], 0.0))
        case DistKind.LOGNORMAL:
            if p[1] == 0:
                return CONSTANT, (p[0], 0.0, 0.0)
            s2 = math.log1p(p[1] ** 2)
            return LOGNORMAL, (math.log(p[0]) - s2 / 2, math.sqrt(s2), 0.0)
        case DistKind.GAMMA:
            cv2 = p[1] ** 2
            return (CONSTANT, (p[0], 0.0, 0.0)) if cv2 == 0 else (GAMMA, (1 / cv2, p[0] * cv2, 0.0))
        case DistKind.UNIFORM:
            return UNIFORM, (p[0], p[1], 0.0)
        case DistKind.TRIANGULAR:
            return (
                (CONSTANT, (p[0], 0.0, 0.0)) if p[0] == p[2] else (TRIANGULAR, (p[0], p[1], p[2]))
            )
        case DistKind.WEIBULL:
            return WEIBULL, (p[0], 1.0 / p[1], 0.0)
    raise AssertionError(dist.kind)  # pragma: no cover


def encode_all(dists: list[Dist | None]) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int64) and parameters (float64, one row of three per distribution)."""
    codes = np.empty(len(dists), np.int64)
    params = np.zeros((len(dists), 3))
    for n, dist in enumerate(dists):
        codes[n], params[n] = encode(dist)
    return codes, params


@njit(cache=True, nogil=True)
def draw(rng, codes, params, i):  # type: ignore[no-untyped-def]
    """One draw of law ``i`` of a table: code ``codes[i]``, parameters ``params[i]``."""
    code = codes[i]
    a, b, c = params[i, 0], params[i, 1], params[i, 2]
    if code == CONSTANT:
        return a
    if code == EXPONENTIAL:
        return a * rng.standard_exponential()
    if code == LOGNORMAL:
        return math.exp(a + b * rng.standard_normal())
    if code == NORMAL:
        return max(0.0, a + b * rng.standard_normal())
    if code == GAMMA:
        return b * rng.standard_gamma(a)
    if code == UNIFORM:
        return a + (b - a) * rng.random()
    if code == TRIANGULAR:
        # Inverse transform, as numpy's triangular does: low a, mode b, high c.
        u = rng.random()
        width = c - a
        if u <= (b - a) / width:
            return a + math.sqrt(u * width * (b - a))
        return c - math.sqrt((1.0 - u) * width * (c - b))
    # WEIBULL: scale * E^(1/shape); b holds 1/shape.
    return a * rng.standard_exponential() ** b


@njit(cache=True, nogil=True, inline="always")
def draw_inline(rng, codes, params, i):  # type: ignore[no-untyped-def]
    """:func:`draw`, inlined for the laws of processing times, the hot draw of both kernels.

    A call with the generator costs some twenty nanoseconds, the inlined lognormal
    draw about eight; the other laws go through the call.
    """
    code = codes[i]
    if code == LOGNORMAL:
        return math.exp(params[i, 0] + params[i, 1] * rng.standard_normal())
    if code == CONSTANT:
        return params[i, 0]
    return draw(rng, codes, params, i)


@njit(cache=True, nogil=True)
def _select(a, lo, hi, k):  # type: ignore[no-untyped-def]
    """Put the k-th smallest of a[lo:hi+1] at a[k], smaller ones before and larger after."""
    while hi > lo:
        mid = (lo + hi) >> 1
        x, y, z = a[lo], a[mid], a[hi]
        if x > y:
            x, y = y, x
        if y > z:
            y = z
        if x > y:
            y = x
        pivot = y
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit(cache=True, nogil=True)
def percentiles_50_90(a):  # type: ignore[no-untyped-def]
    """The 50th and 90th percentiles of ``a`` (numpy's default linear interpolation), in O(n).

    Reorders ``a`` in place. NaN for an empty array.
    """
    n = a.size
    if n == 0:
        return np.nan, np.nan
    out = np.empty(2)
    lo = 0
    for q in range(2):
        h = (n - 1) * (0.5 if q == 0 else 0.9)
        k = math.floor(h)
        below = _select(a, lo, n - 1, k)
        frac = h - k
        if frac > 0.0 and k + 1 < n:
            above = a[k + 1]
            for m in range(k + 2, n):
                if a[m] < above:
                    above = a[m]
            out[q] = below + frac * (above - below)
        else:
            out[q] = below
        lo = k
    return out[0], out[1]
