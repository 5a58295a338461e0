"""Load and validate a generated enterprise of ~100k entities (target: ≤ 5 s, ≤ 500 MB RSS).

    python benchmarks/scenario.py [--quick]

Generates the enterprise (sites → areas → lines → machines and buffers, plus
materials, products with BOMs and routings, suppliers, customers and lanes) as
JSON and as YAML in a temporary folder, then times, each in a fresh process so
the peak RSS is that of the load alone: read + schema + whole-document checks,
and building the twin graph. Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def generate(sites: int, areas: int, lines: int, machines: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    n_materials, n_products = 1_000, 2_000
    materials = [
        {
            "id": f"m{i}",
            "unit": "kg",
            "cost": f"{rng.uniform(0.5, 20):.2f} EUR/kg",
            "co2e": f"{rng.uniform(0.5, 10):.2f} kgCO2e/kg",
        }
        for i in range(n_materials)
    ]
    site_list, all_machines = [], []
    for s in range(sites):
        lat, lon = rng.uniform(-50, 60), rng.uniform(-170, 170)
        area_list = []
        for a in range(areas):
            line_list = []
            for ln in range(lines):
                ms = [f"s{s}a{a}l{ln}m{k}" for k in range(machines)]
                all_machines.extend(ms)
                line_list.append(
                    {
                        "id": f"s{s}a{a}l{ln}",
                        "machines": [
                            {
                                "id": m,
                                "kind": "cnc",
                                "position": {"x": f"{4 * k} m", "y": f"{6 * ln} m"},
                                "cycle_time": {
                                    "dist": "lognormal",
                                    "mean": f"{rng.uniform(20, 90):.1f} s",
                                    "cv": 0.1,
                                },
                                "mtbf": f"{rng.uniform(4, 40):.1f} h",
                                "mttr": f"{rng.uniform(5, 60):.0f} min",
                                "power": {"busy": f"{rng.uniform(5, 80):.1f} kW", "idle": "2 kW"},
                            }
                            for k, m in enumerate(ms)
                        ],
                        "buffers": [
                            {
                                "id": f"{ms[k]}-b",
                                "capacity": "10 pcs",
                                "between": [ms[k], ms[k + 1]],
                            }
                            for k in range(0, machines - 1, 5)
                        ],
                    }
                )
            area_list.append({"id": f"s{s}a{a}", "lines": line_list})
        site_list.append(
            {
                "id": f"s{s}",
                "country": "DE",
                "location": {"lat": lat, "lon": lon},
                "timezone": "Europe/Berlin",
                "areas": area_list,
            }
        )
    products = [
        {
            "id": f"p{i}",
            "mass": "12 kg",
            "price": "300 EUR/pcs",
            "bom": [{"item": f"m{rng.randrange(n_materials)}", "quantity": "2 kg"}]
            + ([{"item": f"p{rng.randrange(i)}", "quantity": "1 pcs"}] if i else []),
            "routing": [
                {"op": f"op{k}", "machines": rng.sample(all_machines, 2), "time": "40 s"}
                for k in range(3)
            ],
        }
        for i in range(n_products)
    ]
    suppliers = [
        {
            "id": f"sup{i}",
            "country": "CN",
            "location": {"lat": 30.0, "lon": 120.0},
            "materials": [
                {
                    "material": f"m{rng.randrange(n_materials)}",
                    "capacity": "500 kg/d",
                    "lead_time": "5 d",
                }
            ],
        }
        for i in range(500)
    ]
    customers = [
        {
            "id": f"c{i}",
            "country": "US",
            "location": {"lat": 40.0, "lon": -75.0},
            "demand": [
                {"product": f"p{rng.randrange(n_products)}", "rate": "100 pcs/wk", "cv": 0.2}
            ],
        }
        for i in range(500)
    ]
    lanes = [
        {
            "id": f"lane{i}",
            "from": f"s{rng.randrange(sites)}",
            "to": f"c{rng.randrange(500)}",
            "mode": "sea",
            "lead_time": {"dist": "triangular", "low": "20 d", "mode": "25 d", "high": "35 d"},
        }
        for i in range(1_000)
    ]
    return {
        "twinverse": 1,
        "enterprise": {"id": "bench", "prefix": "86.9999.bench", "name": "Benchmark Corp"},
        "sites": site_list,
        "materials": materials,
        "products": products,
        "suppliers": suppliers,
        "customers": customers,
        "lanes": lanes,
    }


CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from twinverse.scenario import load_scenario
t_import = time.perf_counter()
loaded = load_scenario(sys.argv[1], max_bytes=1 << 30)
t_valid = time.perf_counter()
graph = loaded.graph()
t_graph = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"validate_s": t_valid - t_import, "graph_s": t_graph - t_valid,
                  "total_s": t_graph - t_import, "entities": len(graph),
                  "relations": graph.relation_count, "peak_rss_mb": rss}))
"""


def measure(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 10k entities instead of 100k")
    args = parser.parse_args()
    shape = (5, 4, 10, 45) if args.quick else (50, 4, 10, 45)
    doc = generate(*shape)
    figures: dict[str, float | int | str] = {"benchmark": "scenario", "quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("json", "yaml"):
            path = Path(tmp) / f"enterprise.{fmt}"
            if fmt == "json":
                path.write_text(json.dumps(doc))
            else:
                path.write_text(
                    yaml.dump(
                        doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False
                    )
                )
            r = measure(path)
            size = path.stat().st_size / 2**20
            print(
                f"{fmt}: {r['entities']:,} entities, {r['relations']:,} relations, {size:.1f} MiB file: "
                f"validate {r['validate_s']:.2f} s + graph {r['graph_s']:.2f} s = {r['total_s']:.2f} s, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB"
            )
            for key in ("validate_s", "graph_s", "total_s", "peak_rss_mb"):
                figures[f"{fmt}_{key}"] = round(r[key], 3)
            figures["entities"] = r["entities"]
    target = 5.0 if not args.quick else 0.5
    print(
        f"target: ≤ {target} s and ≤ 500 MB for the full size; JSON meets it: "
        f"{figures['json_total_s'] <= target and figures['json_peak_rss_mb'] <= 500}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
