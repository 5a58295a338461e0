"""Tests of the SimPy reference supply-network model.

The reference is what twinverse's vectorised network engine is judged by, so
it is itself checked against results that need no simulator: a deterministic
supplier → factory → customer chain worked out by hand day by day, the
textbook fill rate of a periodic-review base-stock system, and schedule
windows whose effect can be read off directly. Stochastic checks compare the
mean over independent replications with the exact value using a 99 %
t-interval, with fixed seeds so the outcome is reproducible.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

# benchmarks/ is not a package on sys.path: load the module from its file.
_PATH = Path(__file__).parents[2] / "benchmarks" / "reference" / "network_simpy.py"
_spec = importlib.util.spec_from_file_location("network_simpy_reference", _PATH)
assert _spec is not None and _spec.loader is not None
ns = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = ns
_spec.loader.exec_module(ns)


def const(value: float) -> dict[str, Any]:
    return {"dist": "constant", "value": value}


def point(
    pid: str, kind: str, initial: float = 0.0, S: float | None = None, **extra: Any
) -> dict[str, Any]:
    node, item = pid.split(":")
    p: dict[str, Any] = {"id": pid, "node": node, "item": item, "kind": kind, "initial": initial}
    if S is not None:
        p["policy"] = {"kind": "base-stock", "S": S}
    p.setdefault("unit_value", 1.0)
    p.setdefault("holding_per_day", 0.0)
    p.update(extra)
    return p


def edge(source: int, target: int, lead: float, share: float = 1.0, **extra: Any) -> dict[str, Any]:
    e = {
        "id": f"{source}-{target}",
        "source": source,
        "target": target,
        "lane": "lane",
        "lead_time": const(lead),
        "share": share,
        "cost_per_unit": 0.0,
        "co2e_per_unit": 0.0,
        "role": "primary" if share > 0 else "alternate",
    }
    e.update(extra)
    return e


def demand_row(p: int, mean: float, cv: float = 0.0, **extra: Any) -> dict[str, Any]:
    d = {
        "id": f"cust{p}",
        "point": p,
        "mean": mean,
        "cv": cv,
        "price": 1.0,
        "lead_time": const(1),
        "cost_per_unit": 0.0,
        "co2e_per_unit": 0.0,
    }
    d.update(extra)
    return d


def t99_half_width(xs: np.ndarray) -> float:
    return float(stats.t.ppf(0.995, len(xs) - 1) * xs.std(ddof=1) / math.sqrt(len(xs)))


# ----------------------------------------------------------- (1) hand-worked chain


def chain(
    line_capacity: float = 50.0, unmet: str = "backorder", horizon: int = 10
) -> dict[str, Any]:
    """Steel mill → (steel at the fab, widgets made at the fab) → one customer.

    Demand is 10 widgets a day, a widget takes 2 steel. Steel ordered on day t
    is shipped by the mill on day t+1 (orders are served from the next day on)
    and spends 1 day in the mill's lead time plus 1 day on the lane, so it is
    on hand on day t+3: base stock 60 = 3 days × 20 steel covers that exactly.
    """
    return {
        "horizon": horizon,
        "unmet": unmet,
        "points": [
            point("mill:steel", "supply", unit_value=5.0),
            point("fab:steel", "bought", 60.0, S=60.0, holding_per_day=0.1),
            point("fab:widget", "made", 20.0, S=20.0, holding_per_day=0.5),
        ],
        "production": [
            {
                "point": 2,
                "bom": [[1, 2.0]],
                "lines": [[0, line_capacity]],
                "unit_cost": 3.0,
                "co2e_per_unit": 1.0,
            }
        ],
        "lines": [{"id": "fab/press", "site": "fab"}],
        "supply": [{"point": 0, "capacity": 100.0, "lead_time": const(1)}],
        "edges": [edge(0, 1, 1, cost_per_unit=0.2, co2e_per_unit=0.1)],
        "demand": [demand_row(2, 10.0, price=100.0, cost_per_unit=1.0, co2e_per_unit=0.5)],
    }


def test_chain_with_ample_capacity_matches_hand_calculation() -> None:
    # By hand, H = 10: day 0 sells from the initial 20 widgets and nothing is
    # made (wanted = S − on_hand = 0); from day 1 the fab makes 10 a day (20
    # steel), orders 20 steel a day from day 1, the mill ships 20 a day from
    # day 2, and the first steel lands on day 4. Steel on hand at day end:
    # 60, 40, 20, then 0 (each day's arrival is used up by that day's
    # production). Widgets at day end: always 10.
    r = ns.run(chain(), seed=0, trace=True)
    tr = r["trace"]
    assert r["demand"] == 100.0
    assert r["fill_rate"] == 1.0
    assert r["shipped"] == 100.0
    assert r["backorders_end"] == 0.0
    assert r["lost_sales"] == 0.0
    assert r["revenue"] == pytest.approx(100 * 100.0)
    assert r["cost_production"] == pytest.approx(9 * 10 * 3.0)  # days 1..9
    assert r["co2e_production"] == pytest.approx(9 * 10 * 1.0)
    assert r["cost_material"] == pytest.approx(8 * 20 * 5.0)  # mill ships on days 2..9
    assert r["cost_transport"] == pytest.approx(8 * 20 * 0.2 + 100 * 1.0)
    assert r["co2e_transport"] == pytest.approx(8 * 20 * 0.1 + 100 * 0.5)
    assert r["cost_holding"] == pytest.approx(10 * 10 * 0.5 + (60 + 40 + 20) * 0.1)
    assert r["daily_fill_rate"] == [1.0] * 10
    assert r["daily_backlog"] == {"mill": [0.0] * 10, "fab": [0.0] * 10}
    assert tr["on_hand"][1] == [60.0, 40.0, 20.0] + [0.0] * 7
    assert tr["on_hand"][2] == [10.0] * 10
    assert tr["produced"][2] == [0.0] + [10.0] * 9
    assert tr["edge_ordered"][0] == [0.0] + [20.0] * 9
    assert tr["edge_shipped"][0] == [0.0, 0.0] + [20.0] * 8
    assert tr["arrivals"][1] == [0.0] * 4 + [20.0] * 6


def test_chain_short_of_capacity_builds_backorders_first_come() -> None:
    # The press makes only 8 a day. Widgets at day end fall 10, 8, 6, 4, 2, 0;
    # from day 6 the 8 made are short of 10. Backorders are served first-come:
    # day 6 serves 8 of today's 10 (2 backordered); day 7 first the 2, then 6
    # of today's; day 8 first 4, then 4; day 9 first 6, then 2.
    r = ns.run(chain(line_capacity=8.0), seed=0)
    assert r["daily_fill_rate"] == pytest.approx([1.0] * 6 + [0.8, 0.6, 0.4, 0.2])
    assert r["fill_rate"] == pytest.approx((60 + 8 + 6 + 4 + 2) / 100)
    assert r["shipped"] == pytest.approx(92.0)
    assert r["backorders_end"] == pytest.approx(8.0)
    assert r["daily_backlog"]["fab"] == pytest.approx([0.0] * 6 + [2.0, 4.0, 6.0, 8.0])
    assert r["cost_production"] == pytest.approx(9 * 8 * 3.0)
    # Steel: 16 used a day from day 1 → 44, 28, 12, then 12 (16 arrive, 16 used).
    assert r["cost_holding"] == pytest.approx(
        (10 + 8 + 6 + 4 + 2) * 0.5 + (60 + 44 + 28 + 7 * 12) * 0.1
    )
    assert r["cost_material"] == pytest.approx(8 * 16 * 5.0)


def test_chain_short_of_capacity_other_readings() -> None:
    # One ratio for everything owed ("proportional"): day 7 owes 2 + 10 with
    # 8 on hand → today's demand gets 10 × 8/12; day 8: 10 × 8/14; day 9:
    # 10 × 8/16. Totals shipped are the same as with tiers.
    r = ns.run(chain(line_capacity=8.0), seed=0, allocation="proportional")
    assert r["fill_rate"] == pytest.approx((60 + 8 + 80 / 12 + 80 / 14 + 80 / 16) / 100)
    assert r["shipped"] == pytest.approx(92.0)
    assert r["backorders_end"] == pytest.approx(8.0)
    # Oldest day first ("age") is the same as tiers with a single customer:
    # the backorders are all served before today's demand either way.
    r_age = ns.run(chain(line_capacity=8.0), seed=0, allocation="age")
    assert r_age["fill_rate"] == pytest.approx((60 + 8 + 6 + 4 + 2) / 100)
    # Lost sales: each short day loses 2, nothing is carried over.
    r = ns.run(chain(line_capacity=8.0, unmet="lost-sales"), seed=0)
    assert r["fill_rate"] == pytest.approx(0.92)
    assert r["lost_sales"] == pytest.approx(8.0)
    assert r["backorders_end"] == 0.0
    assert r["daily_backlog"]["fab"] == [0.0] * 10
    assert r["revenue"] == pytest.approx(92 * 100.0)


def claims(*owed: tuple[str, int, float, int]) -> list[Any]:
    return [ns.Claim((kind, index), qty, day) for kind, index, qty, day in owed]


def test_tiers_serve_earlier_days_in_one_proportion_then_today() -> None:
    # Owed: a backorder of 10 from day 3, an edge order of 30 from day 5,
    # today's (day 7) demand 20. With 20 on hand, the earlier days (40 owed)
    # get half each and today nothing; with 50, they are served in full and
    # today's demand gets 10 of its 20.
    owed = (("demand", 0, 10.0, 3), ("edge", 0, 30.0, 5), ("demand", 1, 20.0, 7))
    assert ns.share_out(claims(*owed), 20.0, "tiers", today=7) == pytest.approx([5, 15, 0])
    assert ns.share_out(claims(*owed), 50.0, "tiers", today=7) == pytest.approx([10, 30, 10])
    # The earlier readings: day 3 first, then day 5 ("age"); one ratio for all.
    assert ns.share_out(claims(*owed), 20.0, "age", today=7) == pytest.approx([10, 10, 0])
    assert ns.share_out(claims(*owed), 30.0, "proportional", today=7) == pytest.approx([5, 15, 10])
    c = claims(*owed)
    ns.share_out(c, 20.0, "tiers", today=7)
    assert [x.qty for x in c] == pytest.approx([5, 15, 20])  # what is left owed
    with pytest.raises(ValueError, match="allocation"):
        ns.share_out(claims(*owed), 1.0, "fifo")


# ----------------------------------------------------- (2) base-stock fill rate


def base_stock_model(
    mean: float, cv: float, S: float, horizon: int, from_supplier: bool
) -> dict[str, Any]:
    """A base-stock DC serving normal demand, replenished over one lane.

    ``from_supplier``: the source is a supply point with ample capacity, its
    own lead time 1 and a lane of 2 days, so a shipment is L = 3 days in
    transit. Otherwise the source is a warehouse holding (practically)
    unlimited stock and the lane takes L = 1 day.
    """
    if from_supplier:
        source = point("mine:ore", "supply")
        supply = [{"point": 0, "capacity": 1e12, "lead_time": const(1)}]
        lane = 2
    else:
        source = point("hub:ore", "bought", 1e12, S=1e12)
        supply = []
        lane = 1
    return {
        "horizon": horizon,
        "unmet": "backorder",
        "points": [source, point("dc:ore", "bought", S, S=S)],
        "production": [],
        "lines": [],
        "supply": supply,
        "edges": [edge(0, 1, lane)],
        "demand": [demand_row(1, mean, cv)],
    }


@pytest.mark.parametrize(
    ("mean", "cv", "S", "transit", "from_supplier"),
    [(100.0, 0.2, 430.0, 3, True), (50.0, 0.3, 120.0, 1, False)],
)
def test_base_stock_fill_rate_matches_textbook(
    mean: float, cv: float, S: float, transit: int, from_supplier: bool
) -> None:
    # Periodic review every day, lead time L = days in transit. An order
    # placed at the end of day t is shipped on day t+1 and lands on day
    # t+1+L; the inventory position was raised to S on day t, and the next
    # order lands one day later, so S must cover the demand of L+1 days
    # (protection interval). Expected new shortage per day (backorders served
    # first-come) is E[(D_{L+1} − S)^+] − E[(D_L − S)^+] ≈ σ_{L+1}·G(z), the
    # second term being negligible for these S. With cv ≤ 0.3 the 0-truncation
    # of demand moves its mean by < 0.01 %.
    protection = transit + 1
    sigma = cv * mean * math.sqrt(protection)
    z = (S - mean * protection) / sigma
    loss = stats.norm.pdf(z) - z * stats.norm.sf(z)  # standard normal loss function G(z)
    expected = 1.0 - sigma * loss / mean

    model = base_stock_model(mean, cv, S, horizon=1500, from_supplier=from_supplier)
    fills = np.array([r["fill_rate"] for r in ns.replicate(model, 40, seed=11)])
    half = t99_half_width(fills)
    assert 0.9 < expected < 0.97  # a regime where shortages do happen
    assert abs(fills.mean() - expected) < half, (fills.mean(), expected, half)


# ----------------------------------------------------------- (3) capacity windows


def factory(schedules: dict[str, Any], horizon: int = 30) -> dict[str, Any]:
    """Two products on one press, plenty of material and no demand: the
    base stocks are so high that the press runs flat out every day."""
    return {
        "horizon": horizon,
        "unmet": "backorder",
        "points": [
            point("fab:coil", "bought", 1e12, S=1e12),
            point("fab:a", "made", 0.0, S=1e9),
            point("fab:b", "made", 0.0, S=1e9),
        ],
        "production": [
            {
                "point": 1,
                "bom": [[0, 1.0]],
                "lines": [[0, 50.0]],
                "unit_cost": 1.0,
                "co2e_per_unit": 0.0,
            },
            {
                "point": 2,
                "bom": [[0, 1.0]],
                "lines": [[0, 100.0]],
                "unit_cost": 1.0,
                "co2e_per_unit": 0.0,
            },
        ],
        "lines": [{"id": "fab/press", "site": "fab"}],
        "supply": [],
        "edges": [],
        "demand": [],
        "schedules": schedules,
    }


def test_line_capacity_schedule_scales_production_in_its_window() -> None:
    # Both products want the same (huge) quantity W every day, so the press
    # load is W/50 + W/100 and each product gets W / load = 100/3 a day; two
    # overlapping windows multiply (0.4 on days 10–19, × 0.5 on days 15–19).
    sched = {"line_capacity": {"0": [[10, 20, 0.4], [15, 20, 0.5]]}}
    r = ns.run(factory(sched), seed=0, trace=True)
    full = 100.0 / 3.0
    want = [full] * 10 + [0.4 * full] * 5 + [0.2 * full] * 5 + [full] * 10
    for p in (1, 2):
        assert r["trace"]["produced"][p] == pytest.approx(want)
    assert r["cost_production"] == pytest.approx(2 * sum(want))
    # Without the schedule, the same run makes the full rate every day.
    r0 = ns.run(factory({}), seed=0, trace=True)
    assert r0["trace"]["produced"][1] == pytest.approx([full] * 30)


def test_materials_and_bom_depth() -> None:
    # Coil short: 30 on hand, both products want 100/3 × 1 coil → need 66.7,
    # so both are scaled by 30 / 66.7 and the coil is used up.
    model = factory({}, horizon=1)
    model["points"][0] = point("fab:coil", "bought", 30.0, S=0.0)
    r = ns.run(model, seed=0, trace=True)
    assert r["trace"]["produced"][1] == pytest.approx([15.0])
    assert r["trace"]["produced"][2] == pytest.approx([15.0])
    assert r["trace"]["on_hand"][0] == pytest.approx([0.0])
    # A component made today is used today: b is made from a (depth 1) on a
    # second line, and a from coil (depth 0); a starts empty yet b is made on day 0.
    model = factory({}, horizon=1)
    model["production"][1]["bom"] = [[1, 1.0]]
    model["production"][1]["lines"] = [[1, 100.0]]
    model["lines"].append({"id": "fab/lathe", "site": "fab"})
    r = ns.run(model, seed=0, trace=True)
    assert r["trace"]["produced"][1] == pytest.approx([50.0])  # a alone on the press at depth 0
    assert r["trace"]["produced"][2] == pytest.approx([50.0])  # b limited by the 50 a made


def two_depths_on_one_press(coil: float) -> dict[str, Any]:
    """a (depth 0, 50/day) and b made from a (depth 1, 100/day) share the press.

    a holds 1000 and wants 20 more (S = 1020); b wants without limit.
    """
    model = factory({}, horizon=1)
    model["points"][0] = point("fab:coil", "bought", coil, S=0.0)
    model["points"][1] = point("fab:a", "made", 1000.0, S=1020.0)
    model["production"][1]["bom"] = [[1, 1.0]]
    return model


def test_line_capacity_is_shared_across_bom_depths() -> None:
    # Depth 0: a plans 20, 20/50 = 0.4 of the press's day. Depth 1: b gets the
    # 0.6 left, 0.6 × 100 = 60 (a has plenty on hand, 1020 after today's 20).
    r = ns.run(two_depths_on_one_press(coil=1e12), seed=0, trace=True)
    assert r["trace"]["produced"][1] == pytest.approx([20.0])
    assert r["trace"]["produced"][2] == pytest.approx([60.0])
    # What a depth *plans* uses the press, even when materials then cut it
    # down: with 10 coil, a plans 20 but makes 10, and b still gets 0.6.
    r = ns.run(two_depths_on_one_press(coil=10.0), seed=0, trace=True)
    assert r["trace"]["produced"][1] == pytest.approx([10.0])
    assert r["trace"]["produced"][2] == pytest.approx([60.0])


def test_supply_capacity_and_demand_factor_windows() -> None:
    model = base_stock_model(10.0, 0.0, 40.0, horizon=20, from_supplier=True)
    model["supply"][0]["capacity"] = 10.0
    model["schedules"] = {
        "supply_capacity": {"0": [[5, 10, 0.5]]},
        "demand_factor": {"0": [[12, 15, 0.0]]},
    }
    r = ns.run(model, seed=0, trace=True)
    shipped = r["trace"]["edge_shipped"][0]
    assert shipped[5:10] == pytest.approx([5.0] * 5)  # half capacity, orders wait
    assert shipped[10] == pytest.approx(10.0)
    assert r["trace"]["demand"][0] == pytest.approx([10.0] * 12 + [0.0] * 3 + [10.0] * 5)
    assert r["demand"] == pytest.approx(170.0)


# ---------------------------------------------------------- (4) closed edges


def test_closed_edge_ships_nothing_and_its_orders_wait() -> None:
    # Supplier (lead 1) → lane (2 days) → DC with demand 10/day, base stock 40
    # covering the 4-day protection interval exactly. The lane is closed on
    # days 10–19: nothing leaves, so nothing arrives on days 13–22 (goods
    # already on the way when it closed still land on days 10–12). The orders
    # of days 9–19 wait and leave together on day 20, landing on day 23.
    model = base_stock_model(10.0, 0.0, 40.0, horizon=30, from_supplier=True)
    model["schedules"] = {"edge_closed": {"0": [[10, 20]]}}
    r = ns.run(model, seed=0, trace=True)
    tr = r["trace"]
    shipped, ordered, arrivals = tr["edge_shipped"][0], tr["edge_ordered"][0], tr["arrivals"][1]
    assert shipped[10:20] == [0.0] * 10
    assert arrivals[13:23] == [0.0] * 10
    assert arrivals[4:13] == pytest.approx([10.0] * 9)
    assert shipped[20] == pytest.approx(sum(ordered[9:20]))
    assert arrivals[23] == pytest.approx(shipped[20])
    assert r["fill_rate"] < 1.0  # the DC ran dry during the closure
    assert r["backorders_end"] == pytest.approx(0.0)  # and caught up afterwards
    # Without the closure the DC never runs short.
    model.pop("schedules")
    assert ns.run(model, seed=0)["fill_rate"] == 1.0


def test_share_is_honoured_and_lead_factor_delays() -> None:
    # Two lanes from the supplier, shares 0.75 / 0.25; the second is closed
    # throughout, so its quarter of every order waits (no rerouting). An
    # alternate with share 0 receives nothing.
    model = base_stock_model(10.0, 0.0, 40.0, horizon=15, from_supplier=True)
    model["edges"] = [edge(0, 1, 2, 0.75), edge(0, 1, 2, 0.25), edge(0, 1, 2, 0.0)]
    model["schedules"] = {"edge_closed": {"1": [[0, 100]]}}
    r = ns.run(model, seed=0, trace=True)
    tr = r["trace"]
    total = [a + b for a, b in zip(tr["edge_ordered"][0], tr["edge_ordered"][1], strict=True)]
    assert tr["edge_ordered"][0] == pytest.approx([0.75 * q for q in total])
    assert sum(tr["edge_shipped"][1]) == 0.0
    assert sum(tr["edge_ordered"][2]) == 0.0
    # A lead-time factor of 2 on the lane for departures on days 3–5: the
    # lane leg takes 4 days instead of 2. 10 leave every day from day 1 and
    # land after 1 (supplier) + 2 days, so departures 1, 2 land on 4, 5;
    # departures 3, 4, 5 on 8, 9, 10; departures 6, 7, 8 again on 9, 10, 11.
    model = base_stock_model(10.0, 0.0, 40.0, horizon=20, from_supplier=True)
    model["schedules"] = {"edge_lead_factor": {"0": [[3, 6, 2.0]]}}
    tr = ns.run(model, seed=0, trace=True)["trace"]
    assert tr["edge_shipped"][0][1:12] == pytest.approx([10.0] * 11)
    assert tr["arrivals"][1][4:12] == pytest.approx([10.0, 10.0, 0.0, 0.0, 10.0, 20.0, 20.0, 10.0])


def test_demand_blocked_waits_or_is_lost() -> None:
    # A DC with ample stock; its customer is blocked on days 5–7. The demand
    # still arises (counted) but is not served: 10, 20, 30 backordered, then
    # all 30 served on day 8 before that day's 10.
    model = base_stock_model(10.0, 0.0, 1000.0, horizon=12, from_supplier=True)
    model["schedules"] = {"demand_blocked": {"0": [[5, 8]]}}
    r = ns.run(model, seed=0)
    assert r["daily_fill_rate"] == pytest.approx([1.0] * 5 + [0.0] * 3 + [1.0] * 4)
    assert r["daily_backlog"]["dc"] == pytest.approx([0.0] * 5 + [10.0, 20.0, 30.0] + [0.0] * 4)
    assert r["demand"] == pytest.approx(120.0)
    assert r["shipped"] == pytest.approx(120.0)
    assert r["fill_rate"] == pytest.approx(90 / 120)
    # With lost sales the blocked days' demand is gone.
    model["unmet"] = "lost-sales"
    r = ns.run(model, seed=0)
    assert r["lost_sales"] == pytest.approx(30.0)
    assert r["shipped"] == pytest.approx(90.0)
    assert r["backorders_end"] == 0.0


def test_start_fills_the_pipeline_of_primary_edges() -> None:
    # Supplier (lead 1) → lane (2 days) → DC, demand 10 a day: an order of day
    # t lands on day t+4, so the DC's lead days are 4 and warm_days 3. With a
    # day's demand on hand and 3 days of it arriving on days 1, 2, 3, the DC
    # is in steady state from the start: it never runs short and ends every
    # day empty. The alternate edge starts empty.
    model = base_stock_model(10.0, 0.0, 40.0, horizon=10, from_supplier=True)
    model["points"][1]["initial"] = 10.0
    model["points"][1]["mean_demand"] = 10.0
    model["edges"] = [
        edge(0, 1, 2, warm_days=3, cost_per_unit=1.0),
        edge(0, 1, 2, 0.0, warm_days=3),  # an alternate: no pipeline whatever it says
    ]
    r = ns.run(model, seed=0, trace=True)
    tr = r["trace"]
    assert tr["arrivals"][1] == pytest.approx([0.0] + [10.0] * 9)
    assert tr["edge_ordered"][0] == pytest.approx([10.0] * 10)  # position 40 − 10 sold
    assert tr["on_hand"][1] == pytest.approx([0.0] * 10)
    assert r["fill_rate"] == 1.0
    assert r["cost_transport"] == pytest.approx(9 * 10.0)  # shipped days 1–9; the start's is free
    # Without the pipeline the DC is short on days 1–3 (the order of day 0,
    # 40, lands on day 4 and clears the backorders).
    model["edges"][0]["warm_days"] = 0
    r = ns.run(model, seed=0)
    assert r["daily_fill_rate"][:5] == pytest.approx([1.0, 0.0, 0.0, 0.0, 1.0])


# ------------------------------------------------------------- (5) seeding


def test_same_seed_same_result_different_seed_different() -> None:
    model = base_stock_model(50.0, 0.3, 120.0, horizon=200, from_supplier=True)
    a, b, c = ns.run(model, 3), ns.run(model, 3), ns.run(model, 4)
    assert a == b
    assert a["demand"] != c["demand"]
    reps = ns.replicate(model, 3, seed=5)
    assert reps == ns.replicate(model, 3, seed=5)
    assert len({r["demand"] for r in reps}) == 3
    child = np.random.SeedSequence(5).spawn(3)[1]
    assert ns.run(model, child) == reps[1]


def test_lead_time_rounding_and_distributions() -> None:
    rng = np.random.default_rng(0)
    assert ns.lead_days(rng, const(2.5)) == 3  # nearest day, halves up
    assert ns.lead_days(rng, const(0.2)) == 1  # at least one day
    assert ns.lead_days(rng, const(3.0), factor=2.0) == 6
    # A supplier's leg and the lane's are summed, then rounded once.
    assert ns.lead_days(rng, const(1.4), before=1.4) == 3
    assert ns.lead_days(rng, const(0.2), before=0.0) == 1
    tri = {"dist": "triangular", "low": 14, "mode": 21, "high": 35}
    xs = [ns.draw(rng, tri) for _ in range(20000)]
    assert np.mean(xs) == pytest.approx((14 + 21 + 35) / 3, rel=0.01)
    logn = {"dist": "lognormal", "mean": 5.0, "cv": 0.5}
    xs = [ns.draw(rng, logn) for _ in range(20000)]
    assert np.mean(xs) == pytest.approx(5.0, rel=0.02)
    assert np.std(xs) / np.mean(xs) == pytest.approx(0.5, rel=0.05)


def test_command_line_prints_mean_kpis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(chain()))
    assert ns.main([str(path), "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["replications"] == 3
    assert out["fill_rate"]["mean"] == 1.0
    assert out["revenue"]["mean"] == pytest.approx(10000.0)
