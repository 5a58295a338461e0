"""The network study end to end on the example enterprise: seeds, disruptions, mitigations, reports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from twinverse.scenario import load_scenario
from twinverse.scenario.schema import DisruptionKind, NamedScenario, Scenario
from twinverse.sim.disruptions import KINDS, PlanError, make_plan
from twinverse.sim.network.engine import compile_arrays, run_block
from twinverse.sim.network.model import PointKind, compile_network
from twinverse.sim.report import to_csv, to_html, to_json
from twinverse.sim.study import BASELINE, StudyError, estimate, run_study

EXAMPLE = Path(__file__).parents[3] / "examples" / "global-network.yaml"


@pytest.fixture(scope="module")
def network() -> Scenario:
    s = load_scenario(EXAMPLE).scenario
    # Half a year keeps the tests quick and still spans every disruption of the example.
    sim = s.simulation.model_copy(
        update={
            "horizon": s.simulation.horizon.__class__(
                180 * 86400.0, s.simulation.horizon.dimension, "d"
            )
        }
    )
    return s.model_copy(update={"simulation": sim})


def test_every_disruption_kind_has_a_row() -> None:
    assert set(KINDS) == set(DisruptionKind)


def test_compiled_network_serves_every_demand_stream(network: Scenario) -> None:
    model = compile_network(network)
    assert len(model.demand) == sum(len(c.demand) for c in network.customers)
    made = {(p.node, p.item) for p in model.points if p.kind is PointKind.MADE}
    assert ("suzhou", "edu-150-400v") in made
    # Every bought point has exactly one primary source.
    for i, p in enumerate(model.points):
        if p.kind is PointKind.BOUGHT:
            primaries = [e for e in model.edges if e.target == i and e.share == 1.0]
            assert len(primaries) == 1, p.id
    json.dumps(model.to_dict())  # the wire form is plain JSON


def test_same_seed_same_result_other_seed_other_result(network: Scenario) -> None:
    a = run_study(network, ["strike-africa"], replications=6, seed=7)
    b = run_study(network, ["strike-africa"], replications=6, seed=7)
    c = run_study(network, ["strike-africa"], replications=6, seed=8)
    for ra, rb in zip(a.results, b.results, strict=True):
        for key in ra.kpis:
            np.testing.assert_array_equal(ra.kpis[key], rb.kpis[key])
    assert not np.array_equal(a.results[0].kpis["demand"], c.results[0].kpis["demand"])


def test_a_block_does_not_depend_on_how_many_threads_run_it(network: Scenario) -> None:
    model = compile_network(network)
    arrays = compile_arrays(model)
    named = next(s for s in network.scenarios if s.id == "strike-africa")
    plan = make_plan(network, model, named, 7, np.random.default_rng(3))
    one = run_block(arrays, plan, 7, np.random.default_rng(4), workers=1)
    three = run_block(arrays, plan, 7, np.random.default_rng(4), workers=3)
    for key in one.kpis:
        np.testing.assert_array_equal(one.kpis[key], three.kpis[key])
    assert one.daily_backlog is not None and three.daily_backlog is not None
    np.testing.assert_array_equal(one.daily_backlog, three.daily_backlog)


def test_disruptions_hurt_and_mitigations_help(network: Scenario) -> None:
    bare = NamedScenario(id="bare", disruptions=["gauteng-unrest", "durban-port-closed"])
    scenarios = [*network.scenarios, bare]
    s = network.model_copy(update={"scenarios": scenarios})
    study = run_study(s, ["strike-africa", "bare", "export-ban-america"], replications=150, seed=1)
    # Every scenario runs on the same random numbers as the baseline (common random
    # numbers), so the comparisons are paired, run by run.
    base = study.result(BASELINE).kpis
    bare = study.result("bare").kpis
    assert study.result(BASELINE).estimate("fill_rate").mean > 0.995
    assert estimate(bare["fill_rate"] - base["fill_rate"]).high < 0
    # Extra gearbox stock at the EDU plants keeps more customers served.
    mitigated = study.result("strike-africa").kpis
    assert estimate(mitigated["fill_rate"] - bare["fill_rate"]).low > 0
    # The ban cuts what Monterrey can ship; Laredo's customers fail and stay failed.
    ban = study.result("export-ban-america")
    assert estimate(ban.kpis["shipped"] - base["shipped"]).high < 0
    assert "laredo-dc" in {node for node, (tts, _, never) in ban.survival().items() if never < 1}


def test_a_disruption_that_touches_nothing_is_refused(network: Scenario) -> None:
    d = network.disruptions[0].model_copy(update={"id": "x", "targets": ["shanghai"]})
    s = network.model_copy(update={"disruptions": [*network.disruptions, d]})
    with pytest.raises(PlanError, match="touches nothing"):
        make_plan(
            s,
            compile_network(s),
            NamedScenario(id="n", disruptions=["x"]),
            3,
            np.random.default_rng(0),
        )


def test_unknown_scenario_is_a_clear_error(network: Scenario) -> None:
    with pytest.raises(StudyError, match=r"unknown scenario .strike-mars.*strike-africa"):
        run_study(network, ["strike-mars"], replications=2)


def test_chained_disruption_starts_when_its_predecessor_ends(network: Scenario) -> None:
    model = compile_network(network)
    plan = make_plan(network, model, network.scenarios[4], 200, np.random.default_rng(3))
    unrest, port = plan.windows
    assert port.id == "durban-port-closed"
    assert np.all(port.start[port.occurs] == unrest.end[port.occurs])
    assert not np.any(port.occurs & ~unrest.occurs)
    assert 0.35 < port.occurs.mean() < 0.65  # probability 0.5


def test_confidence_interval_covers_the_true_mean_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(0)
    covered = [estimate(rng.normal(10, 2, 20)) for _ in range(2000)]
    share = np.mean([e.low <= 10 <= e.high for e in covered])
    assert 0.935 < share < 0.965  # binomial sd ≈ 0.005
    e = estimate(np.array([1.0, 2.0, 3.0]))
    assert e.mean == 2.0 and e.half_width == pytest.approx(4.303 / np.sqrt(3), rel=1e-3)


def test_reports_json_csv_html(network: Scenario) -> None:
    study = run_study(network, ["strike-europe"], replications=4, seed=2)
    data = to_json(study)
    assert [s["name"] for s in data["scenarios"]] == ["baseline", "strike-europe"]
    assert {"mean", "ci95"} <= set(data["scenarios"][0]["kpis"]["fill_rate"])
    rows = list(csv.DictReader(io.StringIO(to_csv(study))))
    assert {r["scenario"] for r in rows} >= {"baseline", "strike-europe"}
    page = to_html(study)
    assert page.startswith("<!doctype html>") and "plotly" in page and "Fill rate" in page
