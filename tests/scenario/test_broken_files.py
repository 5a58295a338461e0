"""Every broken scenario under ``broken/`` is reported exactly as its golden file says.

Each file in ``broken/`` holds one class of mistake (a few hold several, to
check that every one is reported). ``golden/<name>.txt`` holds the expected
output of :func:`validate_file`: one ``str(issue)`` per line, with the file
named relative to this directory (``broken/<name>.yaml``).

Regenerate the golden files after a deliberate change of wording with::

    TWINVERSE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/scenario/test_broken_files.py

and review the diff line by line: each message must say where (file:line:col
and the path in the document), what was expected, what was found, and give a
hint where one helps. Goldens of files listed in KNOWN_BUGS hold the output the
fixed code should give and are never overwritten.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from twinverse.scenario import Issue, ScenarioError, load_scenario, validate_file

HERE = Path(__file__).parent
BROKEN_DIR = HERE / "broken"
GOLDEN_DIR = HERE / "golden"
VALID_SMALL = HERE / "valid" / "small.yaml"
UPDATE = os.environ.get("TWINVERSE_UPDATE_GOLDEN") == "1"

BROKEN = sorted(p for p in BROKEN_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".json"))

# Broken files whose output is wrong today. Their golden holds the right output;
# the test is a strict xfail, so fixing the bug turns it into an XPASS failure
# that asks for the entry to be removed.
KNOWN_BUGS: dict[str, str] = {}


def _params(bugs: dict[str, str]) -> list[object]:
    """One parameter per broken file; those named in ``bugs`` are strict xfails."""
    return [
        pytest.param(
            p,
            id=p.name,
            marks=[pytest.mark.xfail(reason=bugs[p.stem], strict=True)] if p.stem in bugs else [],
        )
        for p in BROKEN
    ]


def _report(issues: list[Issue]) -> str:
    return "".join(f"{issue}\n" for issue in issues)


def _relative_issues(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Issue]:
    """validate_file on ``broken/<name>``, so messages name the file relative to HERE."""
    monkeypatch.chdir(HERE)
    return validate_file(path.relative_to(HERE).as_posix())


@pytest.mark.parametrize("source", _params(KNOWN_BUGS))
def test_validate_file_output_matches_golden(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _report(_relative_issues(source, monkeypatch))
    golden = GOLDEN_DIR / f"{source.stem}.txt"
    if UPDATE:
        if source.stem in KNOWN_BUGS:
            pytest.skip("the golden of a known bug holds the fixed output; edit it by hand")
        golden.write_text(got, encoding="utf-8")
        return
    assert golden.exists(), f"no golden file {golden.name}; run with TWINVERSE_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")


def test_there_are_at_least_twenty_broken_files() -> None:
    assert len(BROKEN) >= 20


def test_broken_file_stems_are_unique() -> None:
    stems = [p.stem for p in BROKEN]
    assert len(stems) == len(set(stems))


def test_every_golden_file_belongs_to_a_broken_file() -> None:
    stems = {p.stem for p in BROKEN}
    orphans = [g.name for g in GOLDEN_DIR.glob("*.txt") if g.stem not in stems]
    assert orphans == []


def test_known_bugs_name_existing_broken_files() -> None:
    assert set(KNOWN_BUGS) <= {p.stem for p in BROKEN}


@pytest.mark.parametrize("source", _params({}))
def test_broken_file_is_reported_and_not_loaded(source: Path) -> None:
    issues = validate_file(source)
    assert issues
    assert all(re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", issue.code) for issue in issues)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(source)
    assert raised.value.issues == issues


# Issues that cannot say where they are today (see the report).
_UNLOCATED = {
    "json-duplicate-key": (
        "source.py _parse_json: a duplicate JSON key is reported without line, column "
        "or document path"
    ),
}
_UNFORMATTED: dict[str, str] = {}


@pytest.mark.parametrize("source", _params(_UNLOCATED))
def test_every_issue_names_its_line_and_column(source: Path) -> None:
    for issue in validate_file(source):
        assert issue.file == str(source)
        assert issue.line is not None and issue.line >= 1
        assert issue.column is not None and issue.column >= 1


@pytest.mark.parametrize("source", _params(_UNFORMATTED))
def test_no_message_holds_an_unformatted_placeholder_or_a_line_break(source: Path) -> None:
    for issue in validate_file(source):
        text = str(issue)
        assert "\n" not in text
        assert not re.search(r"\{[a-z_]+(![rs])?\}", text), text


def test_valid_small_scenario_has_no_issues() -> None:
    assert validate_file(VALID_SMALL) == []


def test_valid_small_scenario_loads() -> None:
    loaded = load_scenario(VALID_SMALL)
    assert loaded.scenario.enterprise.id == "globex"
