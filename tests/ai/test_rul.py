from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from tests.ai.conftest import SMALL_PLAN
from twinverse.ai.cmapss import Subset
from twinverse.ai.errors import DataFormatError, ModelFileError
from twinverse.ai.forest import TreeEnsemble
from twinverse.ai.rul import RulModel


def test_forest_arrays_predict_like_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4))
    y = x[:, 0] * 3 + np.sin(x[:, 1]) + rng.normal(scale=0.1, size=500)
    models = [
        HistGradientBoostingRegressor(max_iter=20, random_state=s).fit(x[s::2], y[s::2])
        for s in (0, 1)
    ]
    ensemble = TreeEnsemble.average(models)
    expected = (models[0].predict(x) + models[1].predict(x)) / 2
    np.testing.assert_allclose(ensemble.predict(x), expected, rtol=1e-9, atol=1e-9)


def test_small_model_learns_the_trend(small_model: RulModel, fd001: Subset) -> None:
    found = small_model.evaluate(fd001)
    assert found.engines == 100
    assert found.rmse < 25  # a constant guess at the mean scores about 41
    assert found.data_matches
    assert np.all(small_model.predict(fd001.test).rul <= 125)


def test_intervals_bracket_the_prediction(small_model: RulModel, fd001: Subset) -> None:
    found = small_model.predict(fd001.test)
    assert np.all(found.low <= found.rul)
    assert np.all(found.rul <= found.high)
    assert found.level == pytest.approx(0.9)
    assert found.health.min() >= 0.0
    assert found.health.max() <= 1.0


def test_same_seed_same_model(fd001: Subset) -> None:
    train = fd001.train.select(np.arange(12))
    a = RulModel.fit(train, seed=3, plan=SMALL_PLAN)
    b = RulModel.fit(train, seed=3, plan=SMALL_PLAN)
    c = RulModel.fit(train, seed=4, plan=SMALL_PLAN)
    test = fd001.test.select(np.arange(10))
    np.testing.assert_array_equal(a.predict(test).rul, b.predict(test).rul)
    assert not np.array_equal(a.predict(test).rul, c.predict(test).rul)


def test_too_few_engines_is_a_clear_error(fd001: Subset) -> None:
    with pytest.raises(DataFormatError, match="need at least 3 engines"):
        RulModel.fit(fd001.train.select(np.arange(2)), seed=0, plan=SMALL_PLAN)


def test_saved_model_round_trips_with_its_provenance(
    small_model: RulModel, fd001: Subset, tmp_path: Path
) -> None:
    path = tmp_path / "fd001.npz"
    small_model.with_metrics({"rmse": 1.5}).save(path)
    loaded = RulModel.load(path, expect_data_hash=fd001.data_hash)
    assert loaded.info.data_hash == fd001.data_hash
    assert loaded.info.metrics == {"rmse": 1.5}
    assert loaded.info.features == small_model.info.features
    np.testing.assert_array_equal(
        loaded.predict(fd001.test).rul, small_model.predict(fd001.test).rul
    )


def test_loading_refuses_a_model_of_other_data(small_model: RulModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_model.save(path)
    with pytest.raises(ModelFileError, match="trained on data"):
        RulModel.load(path, expect_data_hash="0" * 64)


def test_loading_detects_tampered_trees(small_model: RulModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_model.save(path)
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    arrays["forest.value"] = arrays["forest.value"] * 2
    with path.open("wb") as out:
        np.savez(out, **arrays)
    with pytest.raises(ModelFileError, match="do not match the checksum"):
        RulModel.load(path)


def test_loading_garbage_says_what_the_file_is_not(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a twinverse RUL model"):
        RulModel.load(path)
    with pytest.raises(ModelFileError, match="no such model file"):
        RulModel.load(tmp_path / "absent.npz")
