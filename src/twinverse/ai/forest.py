"""A trained tree ensemble as plain arrays: saved without pickle, evaluated with numpy.

scikit-learn's histogram gradient boosting is used to *grow* the trees; its
nodes (feature, threshold, children, leaf value) are then copied into padded
arrays of shape (trees, nodes). Saving those arrays in an ``.npz`` file means a
model file holds data only — loading never runs code from the file — and the
same arrays answer one streaming sample or a whole fleet (a compiled walk down
each tree: tens of microseconds for one sample of a thousand trees).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit
from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TreeEnsemble:
    """``baseline + weight · Σ tree(x)`` over padded node tables (one row per tree)."""

    feature: IntArray
    threshold: Array
    left: IntArray
    right: IntArray
    value: Array
    is_leaf: npt.NDArray[np.bool_]
    baseline: float
    weight: float
    n_features: int

    @property
    def tree_count(self) -> int:
        return int(self.feature.shape[0])

    @classmethod
    def average(cls, models: Sequence[HistGradientBoostingRegressor]) -> TreeEnsemble:
        """The mean of several fitted regressors, as one ensemble."""
        trees = [p[0].nodes for m in models for p in m._predictors]
        if not trees:
            raise ValueError("no trees to copy: the regressors are not fitted")
        if any(bool(t["is_categorical"].any()) for t in trees):
            raise ValueError("categorical splits are not supported")
        width = max(len(t) for t in trees)
        shape = (len(trees), width)
        feature = np.zeros(shape, np.int64)
        threshold = np.zeros(shape, np.float64)
        left = np.zeros(shape, np.int64)
        right = np.zeros(shape, np.int64)
        value = np.zeros(shape, np.float64)
        is_leaf = np.ones(shape, np.bool_)
        for i, nodes in enumerate(trees):
            n = len(nodes)
            feature[i, :n] = nodes["feature_idx"]
            threshold[i, :n] = nodes["num_threshold"]
            left[i, :n] = nodes["left"]
            right[i, :n] = nodes["right"]
            value[i, :n] = nodes["value"]
            is_leaf[i, :n] = nodes["is_leaf"].astype(bool)
        baseline = float(np.mean([float(np.ravel(m._baseline_prediction)[0]) for m in models]))
        return cls(
            feature,
            threshold,
            left,
            right,
            value,
            is_leaf,
            baseline,
            1.0 / len(models),
            int(models[0].n_features_in_),
        )

    def predict(self, x: Array) -> Array:
        """Predictions for the rows of ``x`` (rows × features); NaN-free input expected."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {x.shape[1]}")
        total = np.empty(x.shape[0])
        _sum_leaves(
            self.feature, self.threshold, self.left, self.right, self.value, self.is_leaf, x, total
        )
        out: Array = self.baseline + self.weight * total
        return out

    def to_arrays(self, prefix: str) -> dict[str, npt.NDArray[np.generic]]:
        return {
            f"{prefix}feature": self.feature,
            f"{prefix}threshold": self.threshold,
            f"{prefix}left": self.left,
            f"{prefix}right": self.right,
            f"{prefix}value": self.value,
            f"{prefix}is_leaf": self.is_leaf,
            f"{prefix}scalars": np.asarray([self.baseline, self.weight, self.n_features]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.generic]], prefix: str) -> TreeEnsemble:
        scalars = np.asarray(arrays[f"{prefix}scalars"], np.float64)
        ensemble = cls(
            np.asarray(arrays[f"{prefix}feature"], np.int64),
            np.asarray(arrays[f"{prefix}threshold"], np.float64),
            np.asarray(arrays[f"{prefix}left"], np.int64),
            np.asarray(arrays[f"{prefix}right"], np.int64),
            np.asarray(arrays[f"{prefix}value"], np.float64),
            np.asarray(arrays[f"{prefix}is_leaf"], np.bool_),
            float(scalars[0]),
            float(scalars[1]),
            int(scalars[2]),
        )
        ensemble.check()
        return ensemble

    def check(self) -> None:
        """Raise ValueError when the node tables cannot be a valid forest."""
        shape = self.feature.shape
        for name in ("threshold", "left", "right", "value", "is_leaf"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"node table {name!r} has shape {getattr(self, name).shape}")
        internal = ~self.is_leaf
        width = shape[1]
        if internal.any():
            if (self.feature[internal] < 0).any() or (
                self.feature[internal] >= self.n_features
            ).any():
                raise ValueError("a split refers to a feature outside the model's features")
            for child in (self.left[internal], self.right[internal]):
                if (child <= 0).any() or (child >= width).any():
                    raise ValueError("a split points outside its tree")


@njit(cache=True, nogil=True)
def _sum_leaves(
    feature: IntArray,
    threshold: Array,
    left: IntArray,
    right: IntArray,
    value: Array,
    is_leaf: npt.NDArray[np.bool_],
    x: Array,
    out: Array,
) -> None:
    """``out[r]`` = the sum over trees of the leaf value row ``r`` of ``x`` lands in."""
    for r in range(x.shape[0]):
        total = 0.0
        for t in range(feature.shape[0]):
            node = 0
            while not is_leaf[t, node]:
                go_left = x[r, feature[t, node]] <= threshold[t, node]
                node = left[t, node] if go_left else right[t, node]
            total += value[t, node]
        out[r] = total
