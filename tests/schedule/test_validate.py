"""The checker finds each kind of broken constraint, naming the operation."""

from __future__ import annotations

from twinverse.schedule import (
    Assignment,
    Job,
    Machine,
    Operation,
    Operator,
    Option,
    Problem,
    Schedule,
    Setups,
    ViolationKind,
    validate,
)


def _problem(**kw: object) -> Problem:
    machines = (
        Machine("m0", closed=((50, 60),), setups=Setups(change=5)),
        Machine("m1"),
    )
    jobs = (
        Job(
            "a",
            (Operation((Option("m0", 10), Option("m1", 12))), Operation((Option("m1", 4),))),
            family="x",
        ),
        Job(
            "b", (Operation((Option("m0", 6),), skill=frozenset({"weld"})),), release=3, family="y"
        ),
    )
    crew = (
        Operator("ann", frozenset({"weld"}), available=((0, 40),)),
        Operator("bob", frozenset()),
    )
    return Problem(jobs, machines, crew, **kw)  # type: ignore[arg-type]


def _kinds(*assignments: Assignment, problem: Problem | None = None) -> set[ViolationKind]:
    return {v.kind for v in validate(Schedule.of(list(assignments)), problem or _problem())}


GOOD = (
    Assignment("a", 0, "m0", 0, 10),
    Assignment("a", 1, "m1", 10, 14),
    Assignment("b", 0, "m0", 15, 21, operator="ann"),
)


def test_a_valid_schedule_has_no_violation() -> None:
    assert _kinds(*GOOD) == set()


def test_a_missing_operation_is_reported() -> None:
    assert ViolationKind.MISSING in _kinds(*GOOD[:2])


def test_an_operation_twice_is_reported() -> None:
    assert ViolationKind.DUPLICATE in _kinds(*GOOD, GOOD[0])


def test_an_ineligible_machine_is_reported() -> None:
    assert ViolationKind.INELIGIBLE in _kinds(GOOD[0], Assignment("a", 1, "m0", 10, 14), GOOD[2])


def test_a_wrong_duration_is_reported() -> None:
    assert ViolationKind.DURATION in _kinds(Assignment("a", 0, "m0", 0, 9), *GOOD[1:])


def test_a_start_before_release_is_reported() -> None:
    kinds = _kinds(GOOD[0], GOOD[1], Assignment("b", 0, "m0", 2, 8, operator="ann"))
    assert ViolationKind.RELEASE in kinds


def test_a_broken_job_order_is_reported() -> None:
    assert ViolationKind.PRECEDENCE in _kinds(GOOD[0], Assignment("a", 1, "m1", 9, 13), GOOD[2])


def test_a_machine_running_two_operations_is_reported() -> None:
    kinds = _kinds(GOOD[0], GOOD[1], Assignment("b", 0, "m0", 8, 14, operator="ann"))
    assert ViolationKind.OVERLAP in kinds


def test_a_setup_gap_too_short_is_reported() -> None:
    kinds = _kinds(GOOD[0], GOOD[1], Assignment("b", 0, "m0", 12, 18, operator="ann"))
    assert ViolationKind.SETUP in kinds


def test_an_operation_in_a_closed_window_is_reported() -> None:
    kinds = _kinds(GOOD[0], GOOD[1], Assignment("b", 0, "m0", 45, 51, operator="ann"))
    assert ViolationKind.CALENDAR in kinds


def test_operator_rules_are_checked() -> None:
    assert ViolationKind.OPERATOR_MISSING in _kinds(*GOOD[:2], Assignment("b", 0, "m0", 15, 21))
    assert ViolationKind.OPERATOR_SKILL in _kinds(
        *GOOD[:2], Assignment("b", 0, "m0", 15, 21, operator="bob")
    )
    assert ViolationKind.OPERATOR_ABSENT in _kinds(
        *GOOD[:2], Assignment("b", 0, "m0", 36, 42, operator="ann")
    )


def test_a_moved_frozen_operation_is_reported() -> None:
    problem = _problem(frozen=(Assignment("a", 0, "m0", 0, 10),), not_before=5)
    kinds = _kinds(Assignment("a", 0, "m1", 0, 12), GOOD[1], GOOD[2], problem=problem)
    assert ViolationKind.FROZEN in kinds


def test_a_start_before_now_is_reported() -> None:
    problem = _problem(frozen=(Assignment("a", 0, "m0", 0, 10),), not_before=16)
    assert ViolationKind.NOT_BEFORE in _kinds(*GOOD, problem=problem)


def test_violations_name_the_operation() -> None:
    (v,) = validate(Schedule.of([GOOD[0], GOOD[2]]), _problem())
    assert v.op == "a#1" and "not scheduled" in str(v)
