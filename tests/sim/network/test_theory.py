"""The network engine against results that need no simulator.

A stock point reviewed every day with a base-stock level S, normal demand
and a constant lead time L has a textbook fill rate: an order placed at the
end of day t is shipped by its source on day t+1 and lands on day t+1+L, and
the next order lands a day later, so S protects against the demand of L+1
days. The engine's mean fill rate over replications must contain it in its
99 % confidence interval.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from twinverse.scenario.schema import PolicyKind
from twinverse.sim.disruptions import Plan
from twinverse.sim.dist import Dist
from twinverse.sim.network.engine import compile_arrays, run_block
from twinverse.sim.network.model import (
    Demand,
    Edge,
    EdgeRole,
    NetworkModel,
    Point,
    PointKind,
    Policy,
    Supply,
)


def base_stock_network(
    mean: float, cv: float, S: float, horizon: int, from_supplier: bool
) -> NetworkModel:
    """A base-stock DC serving one customer, replenished over one lane.

    ``from_supplier``: the source is a supplier with ample capacity, its own
    lead time 1 and a lane of 2 days, so a shipment is L = 3 days in transit.
    Otherwise the source is a hub holding (practically) unlimited stock and
    the lane takes L = 1 day. ("Unlimited" is 1e7, a hundred times what the
    run needs: larger values overflow the engine's share ratios, harmlessly
    but with a warning.) The DC starts in steady state: its inventory
    position is S, L days of demand of it in transit.
    """
    transit = 3 if from_supplier else 1
    if from_supplier:
        source = Point("mine:ore", "mine", "ore", PointKind.SUPPLY)
        supply = [Supply(0, 1e7, Dist.constant(1.0))]
        lane = 2.0
    else:
        source = Point(
            "hub:ore",
            "hub",
            "ore",
            PointKind.BOUGHT,
            1e7,
            policy=Policy(PolicyKind.BASE_STOCK, 1e7),
        )
        supply = []
        lane = 1.0
    dc = Point(
        "dc:ore",
        "dc",
        "ore",
        PointKind.BOUGHT,
        initial=S - transit * mean,
        mean_demand=mean,
        lead_days=transit + 1,
        policy=Policy(PolicyKind.BASE_STOCK, S),
    )
    return NetworkModel(
        horizon=horizon,
        unmet="backorder",
        points=[source, dc],
        supply=supply,
        edges=[
            Edge("lane:ore", 0, 1, "lane", Dist.constant(lane), 1.0, 0.0, 0.0, EdgeRole.PRIMARY)
        ],
        demand=[
            Demand("cust:ore", "cust", "ore", "road", 1, mean, cv, 1.0, Dist.constant(1.0), 0, 0)
        ],
    )


@pytest.mark.parametrize(
    ("mean", "cv", "S", "transit", "from_supplier"),
    [(100.0, 0.2, 430.0, 3, True), (50.0, 0.3, 120.0, 1, False)],
    ids=["supplier-L3", "hub-L1"],
)
def test_base_stock_fill_rate_matches_textbook(
    mean: float, cv: float, S: float, transit: int, from_supplier: bool
) -> None:
    # Expected new shortage per day (backorders served first) is
    # E[(D_{L+1} − S)^+] − E[(D_L − S)^+] ≈ σ_{L+1}·G(z), the second term being
    # negligible for these S; with cv ≤ 0.3 the 0-truncation of demand moves
    # its mean by < 0.01 %.
    protection = transit + 1
    sigma = cv * mean * math.sqrt(protection)
    z = (S - mean * protection) / sigma
    loss = stats.norm.pdf(z) - z * stats.norm.sf(z)  # standard normal loss function G(z)
    expected = 1.0 - sigma * loss / mean
    assert 0.9 < expected < 0.97  # a regime where shortages do happen

    model = base_stock_network(mean, cv, S, horizon=1500, from_supplier=from_supplier)
    fills = run_block(compile_arrays(model), Plan("baseline"), 300, np.random.default_rng(7)).kpis[
        "fill_rate"
    ]
    half = stats.t.ppf(0.995, fills.size - 1) * fills.std(ddof=1) / math.sqrt(fills.size)
    assert abs(fills.mean() - expected) < half, (fills.mean(), expected, half)
