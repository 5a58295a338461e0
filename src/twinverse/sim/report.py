"""What a study says, for people and for programs: a KPI table, JSON, CSV and an HTML report.

The HTML report is one self-contained file (plotly's JavaScript is embedded, so
it opens offline): the comparison table with 95 % confidence intervals, the
daily fill rate of every scenario with its 5–95 % band, inventory value over
time, per-node time-to-survive and time-to-recover, and the cost/CO2e
trade-off of the scenarios.
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twinverse.sim.study import BASELINE, Estimate, ScenarioResult, Study

# The KPIs of a comparison, in order: key, label, unit, scale, better when higher.
KPIS: tuple[tuple[str, str, str, float, bool], ...] = (
    ("fill_rate", "Fill rate", "%", 100.0, True),
    ("shipped", "Shipped", "units", 1.0, True),
    ("backorders_end", "Backorders at end", "units", 1.0, False),
    ("lost_sales", "Lost sales", "units", 1.0, False),
    ("revenue", "Revenue", "M", 1e-6, True),
    ("cost_total", "Cost, total", "M", 1e-6, False),
    ("cost_material", "  material", "M", 1e-6, False),
    ("cost_production", "  production", "M", 1e-6, False),
    ("cost_transport", "  transport", "M", 1e-6, False),
    ("cost_holding", "  holding", "M", 1e-6, False),
    ("co2e_total", "CO2e", "t", 1e-3, False),
    ("co2e_transport", "  transport", "t", 1e-3, False),
    ("co2e_production", "  production", "t", 1e-3, False),
)


@dataclass(frozen=True, slots=True)
class Cell:
    estimate: Estimate
    scale: float

    def text(self, digits: int = 1) -> str:
        m, h = self.estimate.mean * self.scale, self.estimate.half_width * self.scale
        if math.isnan(m):
            return "–"
        return f"{m:,.{digits}f} ± {h:,.{digits}f}"


def comparison(study: Study) -> list[dict[str, Any]]:
    """One row per KPI: label, unit and per scenario mean, CI half-width and change vs baseline."""
    rows = []
    base = study.result(BASELINE)
    for key, label, unit, scale, higher in KPIS:
        row: dict[str, Any] = {"kpi": key, "label": label, "unit": unit, "higher_is_better": higher}
        b = base.estimate(key).mean
        for r in study.results:
            e = r.estimate(key)
            row[r.name] = {
                "mean": e.mean * scale,
                "ci95": e.half_width * scale,
                "change": (e.mean - b) / abs(b) if b else 0.0,
            }
        rows.append(row)
    return rows


def survival_rows(study: Study) -> list[dict[str, Any]]:
    rows = []
    for r in study.results:
        if r.name == BASELINE:
            continue
        for node, (tts, ttr, never) in r.survival().items():
            if never >= 1.0 or math.isnan(never):
                continue
            rows.append(
                {
                    "scenario": r.name,
                    "node": node,
                    "time_to_survive_days": tts.mean,
                    "time_to_survive_ci95": tts.half_width,
                    "time_to_recover_days": ttr.mean,
                    "time_to_recover_ci95": ttr.half_width,
                    "never_failed_share": never,
                }
            )
    return rows


def to_json(study: Study) -> dict[str, Any]:
    return {
        "source": study.source,
        "enterprise": study.enterprise,
        "replications": study.replications,
        "seed": study.seed,
        "horizon_days": study.model.horizon,
        "seconds": study.seconds,
        "start": study.start.summary() if study.start else None,
        "scenarios": [
            {
                "name": r.name,
                "title": r.title,
                "disruptions": r.disruptions,
                "mitigations": r.mitigations,
                "kpis": {
                    key: {"mean": r.estimate(key).mean, "ci95": r.estimate(key).half_width}
                    for key in r.kpis
                },
            }
            for r in study.results
        ],
        "survival": survival_rows(study),
        "notes": study.model.notes,
    }


def to_csv(study: Study) -> str:
    """Long format: scenario, kpi, mean, ci95 — one line per pair; then per-node survival."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["scenario", "kpi", "mean", "ci95", "replications"])
    for r in study.results:
        for key in r.kpis:
            e = r.estimate(key)
            w.writerow([r.name, key, f"{e.mean:.6g}", f"{e.half_width:.6g}", e.n])
    for row in survival_rows(study):
        for key in ("time_to_survive_days", "time_to_recover_days", "never_failed_share"):
            w.writerow([row["scenario"], f"{key}[{row['node']}]", f"{row[key]:.6g}", "", ""])
    return out.getvalue()


# ------------------------------------------------------------------- HTML

_PALETTE = ("#1f3b57", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#f28f3b", "#30638e")


def _color(i: int, alpha: float = 1.0) -> str:
    h = _PALETTE[i % len(_PALETTE)].lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _band(
    fig: go.Figure, r: ScenarioResult, band: np.ndarray, i: int, row: int, scale: float
) -> None:
    days = np.arange(band.shape[1])
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([days, days[::-1]]),
            y=np.concatenate([band[2], band[0][::-1]]) * scale,
            fill="toself",
            fillcolor=_color(i, 0.15),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=r.name,
        ),
        row=row,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=band[1] * scale,
            name=r.title,
            line={"color": _color(i), "width": 1.6},
            legendgroup=r.name,
            showlegend=row == 1,
        ),
        row=row,
        col=1,
    )


def figures(study: Study) -> list[go.Figure]:
    traj = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(
            "Fill rate per day (mean, 5–95 % band over replications)",
            f"Inventory value ({study.model.currency}, millions)",
        ),
    )
    for i, r in enumerate(study.results):
        _band(traj, r, r.fill_band, i, 1, 100.0)
        _band(traj, r, r.inventory_band, i, 2, 1e-6)
    traj.update_yaxes(title_text="%", row=1, col=1)
    traj.update_xaxes(title_text="day", row=2, col=1)
    traj.update_layout(height=640, legend={"orientation": "h", "y": -0.12}, margin={"t": 40})

    impact = go.Figure()
    rows = survival_rows(study)
    for i, r in enumerate(study.results):
        mine = [x for x in rows if x["scenario"] == r.name]
        if not mine:
            continue
        impact.add_trace(
            go.Bar(
                name=r.title,
                x=[x["node"] for x in mine],
                y=[x["time_to_recover_days"] for x in mine],
                error_y={"type": "data", "array": [x["time_to_recover_ci95"] for x in mine]},
                marker_color=_color(i),
                customdata=[
                    [x["time_to_survive_days"], 100 * x["never_failed_share"]] for x in mine
                ],
                hovertemplate="%{x}: recovers in %{y:.0f} d; fails after %{customdata[0]:.0f} d; "
                "never fails in %{customdata[1]:.0f} % of runs<extra></extra>",
            )
        )
    impact.update_layout(
        title="Per-node impact: time to recover (days after the first disruption; hover for time to survive)",
        barmode="group",
        yaxis_title="days",
        height=420,
        legend={"orientation": "h", "y": -0.25},
    )

    trade = go.Figure()
    for i, r in enumerate(study.results):
        c, e = r.estimate("cost_total"), r.estimate("co2e_total")
        f = r.estimate("fill_rate")
        trade.add_trace(
            go.Scatter(
                x=[c.mean * 1e-6],
                y=[e.mean * 1e-3],
                error_x={"type": "data", "array": [c.half_width * 1e-6]},
                error_y={"type": "data", "array": [e.half_width * 1e-3]},
                mode="markers+text",
                text=[f"{r.name} ({100 * f.mean:.1f} %)"],
                textposition="top center",
                marker={"size": 12, "color": _color(i)},
                name=r.title,
            )
        )
    trade.update_layout(
        title="Cost and CO2e per scenario (label: fill rate)",
        xaxis_title=f"total cost ({study.model.currency}, millions)",
        yaxis_title="CO2e (t)",
        height=460,
        showlegend=False,
    )
    return [traj, impact, trade]


def to_html(study: Study) -> str:
    """The whole report as one HTML document."""
    figs = figures(study)
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figs)
    ]
    names = [r.name for r in study.results]
    head = "".join(f"<th>{html.escape(r.title)}</th>" for r in study.results)
    body = []
    for row in comparison(study):
        cells = []
        for name in names:
            v = row[name]
            change = ""
            if name != BASELINE and abs(v["change"]) >= 0.0005:
                good = (v["change"] > 0) == row["higher_is_better"]
                change = (
                    f' <span class="{"good" if good else "bad"}">{100 * v["change"]:+.1f} %</span>'
                )
            digits = 2 if row["unit"] in ("%", "M") else 0
            cells.append(f"<td>{v['mean']:,.{digits}f} ± {v['ci95']:,.{digits}f}{change}</td>")
        body.append(
            f"<tr><th>{html.escape(row['label'])} <small>{row['unit']}</small></th>{''.join(cells)}</tr>"
        )
    described = "".join(
        f"<li><b>{html.escape(r.title)}</b>: disruptions {', '.join(r.disruptions) or '—'}; "
        f"mitigations {', '.join(r.mitigations) or '—'}</li>"
        for r in study.results
        if r.name != BASELINE
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in study.model.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>twinverse — {html.escape(study.enterprise)} what-if study</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2733}}
table{{border-collapse:collapse;font-size:.9rem;margin:1rem 0}}
th,td{{border-bottom:1px solid #dde3ea;padding:.35rem .6rem;text-align:right}}
th:first-child{{text-align:left}} thead th{{background:#f1f4f8}}
.good{{color:#2a7d46}} .bad{{color:#b3261e}} small{{color:#68778a}}
</style></head><body>
<h1>{html.escape(study.enterprise)}: what if?</h1>
<p>{study.replications:,} replications of {study.model.horizon} days per scenario, seed {study.seed},
{len(study.model.points)} stock points, {len(study.model.edges)} lanes × items,
{len(study.model.demand)} demand streams; computed in {study.seconds:.1f} s from
<code>{html.escape(study.source)}</code>. Values are means ± the half-width of the 95 % confidence
interval; changes are against the baseline (same random numbers in every scenario).</p>
<ul>{described}</ul>
<table><thead><tr><th>KPI</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>
{"".join(parts)}
<h2>Assumptions made while compiling the network</h2><ul>{notes or "<li>none</li>"}</ul>
<p><small>Time to survive: days from the first disruption until a node's customer backorders
exceed half a day of its demand. Time to recover: days from the first disruption until its last
such day. Transport emission factors as given on the lanes (GLEC Framework v3 defaults in the
examples).</small></p>
</body></html>
"""
