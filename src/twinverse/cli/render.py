"""Rendering for the terminal (rich) and for machines (--json). Nothing else in twinverse prints."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from twinverse.scenario.errors import Issue
from twinverse.twin.codec import change_to_dict, encode_value
from twinverse.twin.events import Event
from twinverse.twin.graph import TwinGraph
from twinverse.twin.instant import format_instant
from twinverse.twin.model import Entity, EntityKind, Relation, RelationKind
from twinverse.twin.quantity import Quantity

console = Console(emoji=False)  # DIDs (did:key:…) must print as they are
errors = Console(stderr=True, emoji=False)


def emit_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def show_value(value: Any) -> str:
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, dict) and "dist" in value:
        params = ", ".join(f"{k}={show_value(v)}" for k, v in value.items() if k != "dist")
        return f"{value['dist']}({params})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


def issues(found: list[Issue]) -> None:
    for issue in found:
        where = issue.file or "<scenario>"
        if issue.line is not None:
            where += f":{issue.line}:{issue.column or 1}"
        errors.print(
            f"[bold]{where}[/]: [cyan]{issue.path or '(document)'}[/]: {issue.message}",
            highlight=False,
            soft_wrap=True,
        )
        if issue.hint:
            errors.print(f"    [green]hint:[/] {issue.hint}", highlight=False, soft_wrap=True)


def summary_table(graph: TwinGraph, title: str) -> Table:
    table = Table(title=title, show_edge=False)
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind in EntityKind:
        if graph.count(kind):
            table.add_row(kind.value, f"{graph.count(kind):,}")
    table.add_row("[dim]relations[/]", f"[dim]{graph.relation_count:,}[/]")
    return table


_TREE_KINDS = (EntityKind.ENTERPRISE, EntityKind.SITE, EntityKind.AREA, EntityKind.LINE)


def containment_tree(
    graph: TwinGraph, root: Entity, *, leaves: bool = True, limit: int = 12
) -> Tree:
    def label(e: Entity) -> str:
        extra = ""
        if e.kind is EntityKind.SITE:
            extra = f" [dim]{e.get('country', '')} {e.get('role', '')}[/]"
        elif e.kind is EntityKind.MACHINE:
            extra = f" [dim]{e.get('kind', '')}[/]"
        return f"[bold]{e.name}[/] [dim]({e.kind.value})[/]{extra}"

    tree = Tree(label(root))

    def grow(node: Tree, entity: Entity) -> None:
        children = sorted(
            graph.children(entity.id), key=lambda e: (list(EntityKind).index(e.kind), e.id)
        )
        structural = [c for c in children if c.kind in _TREE_KINDS]
        other = Counter(c.kind for c in children if c.kind not in _TREE_KINDS)
        for child in structural:
            grow(node.add(label(child)), child)
        if leaves and entity.kind is EntityKind.LINE:
            stations = [c for c in children if c.kind not in _TREE_KINDS]
            for child in stations[:limit]:
                node.add(label(child))
            if len(stations) > limit:
                node.add(f"[dim]… {len(stations) - limit} more[/]")
        elif other and entity.kind is EntityKind.ENTERPRISE:
            node.add(
                "[dim]" + ", ".join(f"{n} {k.value}s" for k, n in sorted(other.items())) + "[/]"
            )

    grow(tree, root)
    return tree


def entity_table(entities: list[Entity], title: str) -> Table:
    table = Table(title=title, show_edge=False)
    table.add_column("id", overflow="fold")
    table.add_column("kind")
    table.add_column("name")
    for e in entities:
        table.add_row(e.id, e.kind.value, e.name)
    return table


def entity_detail(entity: Entity, outgoing: list[Relation], incoming: list[Relation]) -> None:
    console.print(f"[bold]{entity.name}[/]  [dim]{entity.kind.value}[/]  {entity.id}")
    props = Table(show_header=False, show_edge=False, box=None)
    for name, value in sorted(entity.properties.items()):
        stamp = entity.stamps.get(name)
        props.add_row(
            f"[cyan]{name}[/]",
            show_value(value),
            f"[dim]{format_instant(stamp)}[/]" if stamp else "",
        )
    console.print(props)
    for title, rels, arrow in (("relations", outgoing, "→"), ("referenced by", incoming, "←")):
        shown = [r for r in rels if r.kind is not RelationKind.CONTAINS or arrow == "→"]
        if shown:
            console.print(f"[bold]{title}[/]")
            for r in shown:
                other = r.target if arrow == "→" else r.source
                console.print(
                    f"  {arrow} [magenta]{r.kind.value}[/] {other}"
                    + (f" [dim]{show_value(r.properties)}[/]" if r.properties else "")
                )


def entity_json(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "kind": entity.kind.value,
        "name": entity.name,
        "properties": {k: encode_value(v) for k, v in entity.properties.items()},
    }


def relation_json(r: Relation) -> dict[str, Any]:
    return {
        "source": r.source,
        "kind": r.kind.value,
        "target": r.target,
        "properties": {k: encode_value(v) for k, v in r.properties.items()},
    }


def event_json(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "time": format_instant(e.ts),
        "actor": e.actor,
        "reason": e.reason,
        "change": change_to_dict(e.change),
    }


def events_table(events: list[Event], title: str) -> Table:
    table = Table(title=title, show_edge=False)
    table.add_column("seq", justify="right")
    table.add_column("time")
    table.add_column("actor")
    table.add_column("change")
    table.add_column("why", overflow="fold")
    for e in events:
        c = change_to_dict(e.change)
        detail = c["kind"]
        if "name" in c:
            detail += (
                f" {c['name']}={show_value(c.get('value', ''))}"
                if "value" in c
                else f" {c['name']}"
            )
        elif "relation" in c:
            detail += f" {c['relation']['kind']} {c['relation']['target']}"
        table.add_row(str(e.seq), format_instant(e.ts), e.actor, detail, e.reason)
    return table
