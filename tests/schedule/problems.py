"""Random scheduling problems for property tests: flexible routings, setups, calendars, operators."""

from __future__ import annotations

from hypothesis import strategies as st

from twinverse.schedule import Job, Machine, Operation, Operator, Option, Problem, Setups


@st.composite
def problems(draw: st.DrawFn, *, operators: bool = True, plain: bool = False) -> Problem:
    """``plain``: no setups, calendars or operators, and zero durations allowed (tabu search)."""
    n_machines = draw(st.integers(1, 4))
    families = ["a", "b", "c"][: draw(st.integers(1, 3))]
    machines = []
    for m in range(n_machines):
        closed: list[tuple[int, int]] = []
        t = draw(st.integers(5, 30))
        for _ in range(draw(st.integers(0, 0 if plain else 3))):
            length = draw(st.integers(1, 10))
            closed.append((t, t + length))
            t += length + draw(st.integers(5, 40))
        change = draw(st.integers(0, 0 if plain else 6))
        machines.append(
            Machine(
                f"m{m}",
                closed=tuple(closed),
                setups=Setups(change=change, same=draw(st.integers(0, 0 if plain else 1))),
                initial_family=draw(st.sampled_from([None, *families])),
            )
        )
    crew: tuple[Operator, ...] = ()
    skills = ["weld", "paint"]
    if operators and not plain and draw(st.booleans()):
        crew = (
            Operator("ann", frozenset(skills)),
            Operator("bob", frozenset(skills[:1]), available=((0, 60), (80, 10_000))),
        )
    jobs = []
    for j in range(draw(st.integers(1, 8 if plain else 6))):
        ops = []
        for _ in range(draw(st.integers(1, 4))):
            eligible = draw(
                st.lists(
                    st.integers(0, n_machines - 1), min_size=1, max_size=n_machines, unique=True
                )
            )
            skill = frozenset()
            if crew and draw(st.booleans()):
                skill = frozenset({draw(st.sampled_from(skills))})
            ops.append(
                Operation(
                    tuple(
                        Option(f"m{m}", draw(st.integers(0 if plain else 1, 12))) for m in eligible
                    ),
                    skill=skill,
                )
            )
        release = draw(st.integers(0, 20))
        jobs.append(
            Job(
                f"j{j}",
                tuple(ops),
                release=release,
                due=release + draw(st.integers(5, 60)),
                weight=draw(st.sampled_from([0.5, 1.0, 2.0])),
                family=draw(st.sampled_from(families)),
            )
        )
    return Problem(tuple(jobs), tuple(machines), crew)


# ft06 (Fisher & Thompson 1963): 6 jobs × 6 machines, optimum 55.
FT06_MACHINES = [
    [2, 0, 1, 3, 5, 4],
    [1, 2, 4, 5, 0, 3],
    [2, 3, 5, 0, 1, 4],
    [1, 0, 2, 3, 4, 5],
    [2, 1, 4, 5, 0, 3],
    [1, 3, 5, 0, 4, 2],
]
FT06_TIMES = [
    [1, 3, 6, 7, 3, 6],
    [8, 5, 10, 10, 10, 4],
    [5, 4, 8, 9, 1, 7],
    [5, 5, 5, 3, 8, 9],
    [9, 3, 5, 4, 3, 1],
    [3, 3, 9, 10, 4, 1],
]
