"""Remaining-useful-life model: condition normalisation, window features, boosted trees, conformal bands.

Lifecycle: :meth:`RulModel.fit` learns from a run-to-failure fleet; :meth:`predict`
gives every engine's RUL at its last cycle with a prediction interval;
:meth:`save` writes one ``.npz`` file (arrays plus a JSON header holding the
training-data hash, the features, the settings and the metrics); :meth:`load`
checks that header against the arrays and, when asked, against the data.

Training grows ``folds`` models, each on the engines outside one fold; the
model's prediction is their mean, and each model's predictions on the engines
it did not see are the calibration residuals of the conformal bands. The seed
decides the folds, the row subsample and the trees' randomness.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from twinverse.ai.cmapss import RUL_CAP, Fleet, Subset, nasa_score, rmse, training_targets
from twinverse.ai.conditions import ConditionNormaliser
from twinverse.ai.conformal import ConformalBands, coverage
from twinverse.ai.errors import DataFormatError, ModelFileError
from twinverse.ai.features import FeatureSpec, window_features
from twinverse.ai.forest import TreeEnsemble

Array = npt.NDArray[np.float64]

FORMAT = "twinverse-rul/1"


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    """How to train: folds, boosting settings, row subsample, interval level, threads."""

    folds: int = 5
    max_iter: int = 250
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    row_fraction: float = 0.5
    level: float = 0.9
    calibration_horizon: int = 170
    """Calibrate on cycles at most this far from failure: one row per horizon per engine,
    the even mix of horizons a fleet cut off at random points shows."""
    cap: int = RUL_CAP
    threads: int = 2

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ValueError(f"folds must be at least 2, got {self.folds}")
        if not 0.0 < self.row_fraction <= 1.0:
            raise ValueError(f"row_fraction must be in (0, 1], got {self.row_fraction}")


@dataclass(frozen=True, slots=True)
class RulPrediction:
    """RUL at the last cycle of each engine, with its interval at ``level``."""

    units: npt.NDArray[np.int64]
    rul: Array
    low: Array
    high: Array
    level: float

    @property
    def health(self) -> Array:
        """A health index in [0, 1]: predicted RUL as a share of the healthy plateau."""
        out: Array = np.clip(self.rul / RUL_CAP, 0.0, 1.0)
        return out


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Test-set figures under the standard protocol (truth capped like the target)."""

    subset: str
    engines: int
    rmse: float
    score: float
    coverage: float
    level: float
    mean_width: float
    rmse_uncapped: float
    data_matches: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a saved model remembers about its making."""

    subset: str
    data_hash: str
    seed: int
    features: list[str]
    sensors: list[str]
    plan: dict[str, Any]
    train_seconds: float
    calibration: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


class RulModel:
    """A trained RUL estimator; build with :meth:`fit` or :meth:`load`."""

    def __init__(
        self,
        normaliser: ConditionNormaliser,
        spec: FeatureSpec,
        forest: TreeEnsemble,
        bands: ConformalBands,
        info: ModelInfo,
    ) -> None:
        self.normaliser = normaliser
        self.spec = spec
        self.forest = forest
        self.bands = bands
        self.info = info

    @classmethod
    def fit(
        cls,
        fleet: Fleet,
        *,
        seed: int,
        plan: TrainingPlan | None = None,
        spec: FeatureSpec | None = None,
        subset: str = "",
        data_hash: str = "",
    ) -> RulModel:
        """Train on a run-to-failure fleet; raises DataFormatError if it is too small."""
        plan = plan or TrainingPlan()
        spec = spec or FeatureSpec()
        if fleet.engine_count < plan.folds:
            raise DataFormatError(
                subset or "training data",
                f"need at least {plan.folds} engines to train, got {fleet.engine_count}",
            )
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        normaliser = ConditionNormaliser.fit(fleet.settings, fleet.sensors)
        z = normaliser.transform(fleet.settings, fleet.sensors)
        x = window_features(z, fleet.starts, spec)
        y = training_targets(fleet, plan.cap)
        engine_of_row = np.repeat(np.arange(fleet.engine_count), fleet.lengths())
        fold_of_engine = rng.permutation(fleet.engine_count) % plan.folds
        fold_of_row = fold_of_engine[engine_of_row]
        models, held_out = _cross_fit(x, y, fold_of_row, plan, rng)
        held_out = np.clip(held_out, 0.0, plan.cap)
        near = training_targets(fleet, cap=plan.calibration_horizon) < plan.calibration_horizon
        bands = ConformalBands.fit(held_out[near], y[near], plan.level)
        sensors = [f"s{j + 1}" for j in normaliser.informative]
        info = ModelInfo(
            subset=subset,
            data_hash=data_hash,
            seed=seed,
            features=spec.names(sensors),
            sensors=sensors,
            plan=asdict(plan),
            train_seconds=time.perf_counter() - started,
            calibration={
                "rmse": rmse(held_out, y),
                "coverage": coverage(y[near], *bands.interval(held_out[near])),
            },
        )
        return cls(normaliser, spec, TreeEnsemble.average(models), bands, info)

    @property
    def cap(self) -> int:
        return int(self.info.plan.get("cap", RUL_CAP))

    def features(self, fleet: Fleet) -> Array:
        z = self.normaliser.transform(fleet.settings, fleet.sensors)
        return window_features(z, fleet.starts, self.spec)

    def predict_features(self, x: Array) -> Array:
        out: Array = np.clip(self.forest.predict(x), 0.0, self.cap)
        return out

    def predict(self, fleet: Fleet) -> RulPrediction:
        """RUL at the last cycle of every engine of ``fleet``, with intervals."""
        last = fleet.starts[1:] - 1
        rul = self.predict_features(self.features(fleet)[last])
        low, high = self.bands.interval(rul)
        return RulPrediction(fleet.units[last], rul, low, high, self.bands.level)

    def evaluate(self, subset: Subset) -> Evaluation:
        """RMSE, NASA score and interval coverage on the subset's test engines."""
        found = self.predict(subset.test)
        truth = subset.test_rul.astype(np.float64)
        capped = np.minimum(truth, self.cap)
        return Evaluation(
            subset=subset.name,
            engines=len(truth),
            rmse=rmse(found.rul, capped),
            score=nasa_score(found.rul, capped),
            coverage=coverage(capped, found.low, found.high),
            level=found.level,
            mean_width=float(np.mean(found.high - found.low)),
            rmse_uncapped=rmse(found.rul, truth),
            data_matches=subset.data_hash == self.info.data_hash,
        )

    def with_metrics(self, metrics: dict[str, Any]) -> RulModel:
        info = ModelInfo(**{**asdict(self.info), "metrics": metrics})
        return RulModel(self.normaliser, self.spec, self.forest, self.bands, info)

    # -- persistence -------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model as one ``.npz`` file of plain arrays and a JSON header."""
        arrays = self.forest.to_arrays("forest.")
        header = {
            "format": FORMAT,
            "info": asdict(self.info),
            "spec": self.spec.to_dict(),
            "normaliser": self.normaliser.to_dict(),
            "bands": self.bands.to_dict(),
            "arrays": _digest(arrays),
        }
        payload = json.dumps(header, sort_keys=True).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            np.savez_compressed(out, header=np.frombuffer(payload, np.uint8), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path, *, expect_data_hash: str | None = None) -> RulModel:
        """Read a saved model; raises :class:`ModelFileError` when anything does not match."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {k: stored[k] for k in stored.files}
        except FileNotFoundError as err:
            raise ModelFileError(path, "no such model file") from err
        except (OSError, ValueError) as err:
            raise ModelFileError(path, f"not a twinverse RUL model ({err})") from err
        try:
            header = json.loads(arrays.pop("header").tobytes())
        except (KeyError, ValueError) as err:
            raise ModelFileError(path, "the model header is missing or not JSON") from err
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            got = header.get("format") if isinstance(header, dict) else None
            raise ModelFileError(path, f"expected format {FORMAT!r}, got {got!r}")
        if header.get("arrays") != _digest(arrays):
            raise ModelFileError(path, "the tree arrays do not match the checksum in the header")
        try:
            info = ModelInfo(**header["info"])
            spec = FeatureSpec.from_dict(header["spec"])
            normaliser = ConditionNormaliser.from_dict(header["normaliser"])
            bands = ConformalBands.from_dict(header["bands"])
            forest = TreeEnsemble.from_arrays(arrays, "forest.")
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(path, f"damaged model: {err}") from err
        if spec.names(info.sensors) != info.features:
            raise ModelFileError(path, "the feature list does not match the feature settings")
        if forest.n_features != len(info.features):
            raise ModelFileError(
                path,
                f"the trees use {forest.n_features} features, the header lists "
                f"{len(info.features)}",
            )
        if expect_data_hash is not None and expect_data_hash != info.data_hash:
            raise ModelFileError(
                path,
                f"trained on data {info.data_hash[:12]}…, expected {expect_data_hash[:12]}…; "
                "retrain on this data or pass the matching model",
            )
        return cls(normaliser, spec, forest, bands, info)


def _cross_fit(
    x: Array,
    y: Array,
    fold_of_row: npt.NDArray[np.int64],
    plan: TrainingPlan,
    rng: np.random.Generator,
) -> tuple[list[HistGradientBoostingRegressor], Array]:
    """One model per fold, trained outside it; each predicts the rows of its own fold."""
    models: list[HistGradientBoostingRegressor] = []
    held_out = np.empty(len(y))
    with threadpool_limits(limits=plan.threads):
        for k in range(plan.folds):
            inside = np.flatnonzero(fold_of_row != k)
            if plan.row_fraction < 1.0:
                picked = rng.choice(inside, int(len(inside) * plan.row_fraction), replace=False)
                inside = np.sort(picked)
            model = HistGradientBoostingRegressor(
                max_iter=plan.max_iter,
                learning_rate=plan.learning_rate,
                max_leaf_nodes=plan.max_leaf_nodes,
                min_samples_leaf=plan.min_samples_leaf,
                l2_regularization=plan.l2_regularization,
                early_stopping=False,
                random_state=int(rng.integers(2**31 - 1)),
            )
            model.fit(x[inside], y[inside])
            outside = fold_of_row == k
            held_out[outside] = model.predict(x[outside])
            models.append(model)
    return models, held_out


def _digest(arrays: dict[str, npt.NDArray[np.generic]]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
