"""Benchmark instances: the flexible job-shop text format and classic job-shop matrices.

The FJSP format (Brandimarte, Hurink, Kacem): a first line ``<jobs> <machines>``
(more numbers may follow), then one line per job: the number of operations,
then for each operation the number of eligible machines followed by
``<machine> <time>`` pairs. Machines are numbered from 0 or from 1 depending
on the collection; :func:`read_fjsp` detects which (a 0 anywhere means from 0).

Malformed files raise :class:`~twinverse.schedule.errors.InputFileError` with
the file and line.
"""

from __future__ import annotations

from pathlib import Path

from twinverse.schedule.errors import InputFileError
from twinverse.schedule.problem import Job, Machine, Operation, Option, Problem


def parse_fjsp(text: str, *, name: str = "fjsp", file: str = "<text>") -> Problem:
    lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise InputFileError(file, None, "empty file; expected '<jobs> <machines>' on line 1")
    head_no, head = lines[0]
    try:
        n_jobs, n_machines = int(head[0]), int(float(head[1]))
    except (ValueError, IndexError):
        raise InputFileError(
            file, head_no, f"expected '<jobs> <machines>', got {' '.join(head)!r}"
        ) from None
    if len(lines) - 1 < n_jobs:
        raise InputFileError(file, None, f"header says {n_jobs} jobs, found {len(lines) - 1}")
    raw: list[list[list[tuple[int, int]]]] = []
    lowest = 10**9
    for line_no, parts in lines[1 : n_jobs + 1]:
        try:
            numbers = [int(p) for p in parts]
        except ValueError as err:
            raise InputFileError(file, line_no, f"expected whole numbers ({err})") from None
        ops: list[list[tuple[int, int]]] = []
        pos = 1
        try:
            for _ in range(numbers[0]):
                k = numbers[pos]
                pos += 1
                pairs = [(numbers[pos + 2 * i], numbers[pos + 2 * i + 1]) for i in range(k)]
                pos += 2 * k
                if not pairs:
                    raise InputFileError(file, line_no, "an operation with no eligible machine")
                lowest = min(lowest, *(m for m, _ in pairs))
                ops.append(pairs)
        except IndexError:
            raise InputFileError(
                file, line_no, "the line ends inside an operation (counts do not match)"
            ) from None
        if pos != len(numbers):
            raise InputFileError(
                file, line_no, f"{len(numbers) - pos} numbers left over after the operations"
            )
        raw.append(ops)
    base = 0 if lowest == 0 else 1
    machines = tuple(Machine(f"m{i}") for i in range(n_machines))
    jobs = []
    for j, ops in enumerate(raw):
        operations = []
        for pairs in ops:
            for m, t in pairs:
                if not 0 <= m - base < n_machines:
                    raise InputFileError(
                        file, lines[j + 1][0], f"machine {m} outside 0..{n_machines - 1 + base}"
                    )
                if t < 0:
                    raise InputFileError(file, lines[j + 1][0], f"negative time {t}")
            merged: dict[int, int] = {}
            for m, t in pairs:
                merged[m - base] = min(t, merged.get(m - base, t))
            operations.append(
                Operation(tuple(Option(f"m{m}", t) for m, t in sorted(merged.items())))
            )
        jobs.append(Job(f"j{j}", tuple(operations)))
    return Problem(tuple(jobs), machines, name=name)


def read_fjsp(path: str | Path) -> Problem:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputFileError(str(path), None, f"cannot read: {err.strerror}") from err
    return parse_fjsp(text, name=path.stem, file=str(path))


def job_shop(durations: list[list[int]], machines: list[list[int]], *, name: str) -> Problem:
    """A classic job shop: job ``j``'s ``k``-th operation runs on ``machines[j][k]``."""
    n_machines = 1 + max((m for row in machines for m in row), default=0)
    jobs = tuple(
        Job(
            f"j{j}",
            tuple(
                Operation((Option(f"m{m}", int(t)),))
                for m, t in zip(machines[j], durations[j], strict=True)
            ),
        )
        for j in range(len(durations))
    )
    return Problem(jobs, tuple(Machine(f"m{i}") for i in range(n_machines)), name=name)
