"""Sampling the distributions of a scenario, vectorised with numpy.

The twin describes a distribution as data (:class:`~twinverse.twin.distribution.Distribution`,
with quantities in base units); the simulators need plain floats in their own
time unit and fast vectorised draws. :class:`Dist` is that form, and
:meth:`Dist.to_dict` is the wire form both simulators and the SimPy reference
models read (see ``docs/simulation-line.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinverse.twin.distribution import DistKind, Distribution
from twinverse.twin.quantity import Quantity


@dataclass(frozen=True, slots=True)
class Dist:
    """A distribution over plain floats (already in the simulator's unit)."""

    kind: DistKind
    params: tuple[tuple[str, float], ...]

    @classmethod
    def constant(cls, value: float) -> Dist:
        return cls(DistKind.CONSTANT, (("value", float(value)),))

    @classmethod
    def from_twin(cls, dist: Distribution, unit: float = 1.0) -> Dist:
        """Convert a twin distribution, dividing dimensioned parameters by ``unit`` (e.g. 86400 for days)."""
        params = tuple(
            (name, v.magnitude / unit if isinstance(v, Quantity) else float(v))
            for name, v in dist.params
        )
        return cls(dist.kind, params)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dist:
        raw = dict(d)
        kind = DistKind(raw.pop("dist"))
        return cls(kind, tuple((k, float(v)) for k, v in raw.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.kind.value, **dict(self.params)}

    def scaled(self, factor: float) -> Dist:
        """The same shape with every dimensioned parameter times ``factor``."""
        plain = ("cv", "shape")
        return Dist(self.kind, tuple((k, v if k in plain else v * factor) for k, v in self.params))

    @property
    def mean(self) -> float:
        p = dict(self.params)
        match self.kind:
            case DistKind.CONSTANT:
                return p["value"]
            case DistKind.UNIFORM:
                return (p["low"] + p["high"]) / 2
            case DistKind.TRIANGULAR:
                return (p["low"] + p["mode"] + p["high"]) / 3
            case DistKind.WEIBULL:
                return p["scale"] * math.gamma(1 + 1 / p["shape"])
            case _:
                return p["mean"]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` values; negative draws of a normal are set to zero."""
        p = dict(self.params)
        match self.kind:
            case DistKind.CONSTANT:
                return np.full(size, p["value"])
            case DistKind.EXPONENTIAL:
                return rng.exponential(p["mean"], size)
            case DistKind.NORMAL:
                return np.maximum(rng.normal(p["mean"], p["sd"], size), 0.0)
            case DistKind.LOGNORMAL:
                if p["cv"] == 0:
                    return np.full(size, p["mean"])
                sigma2 = math.log1p(p["cv"] ** 2)
                mu = math.log(p["mean"]) - sigma2 / 2
                return rng.lognormal(mu, math.sqrt(sigma2), size)
            case DistKind.GAMMA:
                if p["cv"] == 0:
                    return np.full(size, p["mean"])
                return rng.gamma(1 / p["cv"] ** 2, p["mean"] * p["cv"] ** 2, size)
            case DistKind.UNIFORM:
                return rng.uniform(p["low"], p["high"], size)
            case DistKind.TRIANGULAR:
                if p["low"] == p["high"]:
                    return np.full(size, p["low"])
                return rng.triangular(p["low"], p["mode"], p["high"], size)
            case DistKind.WEIBULL:
                return p["scale"] * rng.weibull(p["shape"], size)
        raise AssertionError(self.kind)  # pragma: no cover


class DistBatch:
    """Many distributions drawn together: one numpy call per kind instead of one per distribution."""

    def __init__(self, dists: list[Dist]) -> None:
        self.n = len(dists)
        self.groups: list[tuple[DistKind, np.ndarray, dict[str, np.ndarray]]] = []
        by_kind: dict[DistKind, list[int]] = {}
        for i, d in enumerate(dists):
            by_kind.setdefault(d.kind, []).append(i)
        for kind, idx in by_kind.items():
            names = [k for k, _ in dists[idx[0]].params]
            params = {name: np.array([dict(dists[i].params)[name] for i in idx]) for name in names}
            self.groups.append((kind, np.array(idx, dtype=np.intp), params))

    def sample(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        """A ``(rows, n)`` array: column ``j`` drawn from distribution ``j``."""
        out = np.empty((rows, self.n))
        for kind, idx, p in self.groups:
            size = (rows, idx.size)
            match kind:
                case DistKind.CONSTANT:
                    out[:, idx] = p["value"]
                case DistKind.EXPONENTIAL:
                    out[:, idx] = rng.exponential(p["mean"], size)
                case DistKind.NORMAL:
                    out[:, idx] = np.maximum(rng.normal(p["mean"], p["sd"], size), 0.0)
                case DistKind.LOGNORMAL:
                    sigma2 = np.log1p(p["cv"] ** 2)
                    mu = np.log(p["mean"]) - sigma2 / 2
                    out[:, idx] = rng.lognormal(mu, np.sqrt(sigma2), size)
                case DistKind.GAMMA:
                    cv = np.maximum(p["cv"], 1e-9)
                    out[:, idx] = rng.gamma(1 / cv**2, p["mean"] * cv**2, size)
                case DistKind.UNIFORM:
                    out[:, idx] = rng.uniform(p["low"], p["high"], size)
                case DistKind.TRIANGULAR:
                    # numpy refuses low == high; such a triangle is a constant.
                    flat = p["low"] == p["high"]
                    high = np.where(flat, p["high"] + 1e-9, p["high"])
                    out[:, idx] = rng.triangular(p["low"], np.minimum(p["mode"], high), high, size)
                case DistKind.WEIBULL:
                    out[:, idx] = p["scale"] * rng.weibull(p["shape"], size)
        return out
