"""Hostile or malformed input never produces a traceback.

Whatever the bytes, :func:`validate_file` returns a list of issues with a
stable ``code`` and :func:`load_scenario` raises :class:`ScenarioError` — never
any other exception, and never after reading an oversized file or expanding a
YAML bomb.
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinverse.scenario import Issue, ScenarioError, load_scenario, validate_file

SMALL_TEXT = (Path(__file__).parent / "valid" / "small.yaml").read_text(encoding="utf-8")
SMALL_LINES = SMALL_TEXT.splitlines(keepends=True)

HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _write(tmp_path: Path, content: bytes | str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _rejected(path: Path | str, **kwargs: int) -> list[Issue]:
    """The issues of a file both entry points reject, checking they agree."""
    issues = validate_file(path, **kwargs)
    assert issues, "expected at least one issue"
    assert all(isinstance(issue, Issue) and issue.code for issue in issues)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path, **kwargs)
    assert raised.value.issues == issues
    return issues


def _codes(issues: list[Issue]) -> list[str]:
    return [issue.code for issue in issues]


def _small_with(old: str, new: str) -> str:
    assert old in SMALL_TEXT
    return SMALL_TEXT.replace(old, new, 1)


# ------------------------------------------------------------ bytes and text


def test_binary_garbage_with_nul_bytes_is_a_binary_file(tmp_path: Path) -> None:
    garbage = random.Random(20240611).randbytes(4096) + b"\x00"
    issues = _rejected(_write(tmp_path, garbage))
    assert _codes(issues) == ["binary-file"]


def test_invalid_utf8_is_not_utf8(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, b"twinverse: 1\nname: caf\xe9 \xc3\x28\n"))
    assert _codes(issues) == ["not-utf8"]
    assert "offset 22" in issues[0].message


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + SMALL_TEXT.encode("utf-8"))
    assert validate_file(path) == []


def test_empty_file_is_empty_file(tmp_path: Path) -> None:
    assert _codes(_rejected(_write(tmp_path, b""))) == ["empty-file"]


def test_whitespace_only_file_is_empty_file(tmp_path: Path) -> None:
    assert _codes(_rejected(_write(tmp_path, "  \n\t\n\n"))) == ["empty-file"]


def test_file_of_only_comments_is_rejected(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, "# a scenario\n# to be written\n"))
    assert _codes(issues) == ["wrong-type"]


@pytest.mark.parametrize(
    "text", ["- a\n- b\n", "42\n", "just some text\n", "null\n", "[1, 2]\n"], ids=repr
)
def test_top_level_that_is_not_a_mapping_is_wrong_type(tmp_path: Path, text: str) -> None:
    issues = _rejected(_write(tmp_path, text))
    assert _codes(issues) == ["wrong-type"]
    assert (issues[0].line, issues[0].column) == (1, 1)


def test_top_level_json_list_is_wrong_type(tmp_path: Path) -> None:
    assert _codes(_rejected(_write(tmp_path, "[1, 2]", "s.json"))) == ["wrong-type"]


def test_a_control_character_is_a_syntax_error(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, _small_with("name: Globex", "name: Glo\x07bex")))
    assert _codes(issues) == ["syntax-error"]


# ------------------------------------------------------- bombs and nesting


def test_billion_laughs_is_an_alias_bomb(tmp_path: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghij"
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    start = time.perf_counter()
    issues = _rejected(_write(tmp_path, "\n".join(lines) + "\n"))
    assert _codes(issues) == ["alias-bomb"]
    assert time.perf_counter() - start < 5


def test_hundred_thousand_deep_flow_nesting_is_too_deep(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, "[" * 100_000 + "]" * 100_000))
    assert _codes(issues) == ["too-deep"]


def test_unclosed_deep_flow_nesting_is_too_deep(tmp_path: Path) -> None:
    assert _codes(_rejected(_write(tmp_path, "{a: " * 100_000))) == ["too-deep"]


def test_three_thousand_deep_block_mapping_is_too_deep(tmp_path: Path) -> None:
    text = "".join(" " * depth + "a:\n" for depth in range(3000))
    assert _codes(_rejected(_write(tmp_path, text))) == ["too-deep"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("".join(" " * (2 * d) + "-\n" for d in range(3000)), id="dash-per-line"),
        pytest.param("- " * 3000 + "a\n", id="dashes-on-one-line"),
    ],
)
def test_three_thousand_deep_block_sequence_is_too_deep(tmp_path: Path, text: str) -> None:
    assert _codes(_rejected(_write(tmp_path, text))) == ["too-deep"]


# ------------------------------------------------------------------- files


def test_file_over_max_bytes_is_too_large(tmp_path: Path) -> None:
    path = _write(tmp_path, SMALL_TEXT)
    assert _codes(_rejected(path, max_bytes=100)) == ["file-too-large"]


def test_size_message_shows_sizes_that_differ(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, SMALL_TEXT), max_bytes=1000)
    assert "0 MiB" not in issues[0].message


def test_sparse_200_mb_file_is_rejected_by_size_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(200 * 2**20)

    def no_reading(self: Path) -> bytes:
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    start = time.perf_counter()
    issues = _rejected(path)
    assert time.perf_counter() - start < 1
    assert _codes(issues) == ["file-too-large"]
    assert "200 MiB" in issues[0].message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert _codes(_rejected(tmp_path)) == ["not-a-file"]


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    issues = _rejected(tmp_path / "nowhere.yaml")
    assert _codes(issues) == ["file-not-found"]
    assert issues[0].file == str(tmp_path / "nowhere.yaml")


def test_too_long_file_name_is_unreadable(tmp_path: Path) -> None:
    assert _codes(_rejected(tmp_path / ("x" * 5000))) == ["unreadable-file"]


def test_path_with_a_nul_byte_is_rejected(tmp_path: Path) -> None:
    _rejected(str(tmp_path / "a\x00b.yaml"))


# -------------------------------------------------------------- YAML tags


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.mkdir [{marker}]",
        "!!python/object/new:os.mkdir [{marker}]",
        "!!python/name:os.system",
        "!!python/module:os",
        "!custom {marker}",
    ],
)
def test_yaml_tags_are_refused_and_never_run(tmp_path: Path, tagged: str) -> None:
    marker = tmp_path / "pwned"
    text = _small_with("name: Globex", "name: " + tagged.format(marker=f'"{marker}"'))
    issues = _rejected(_write(tmp_path, text))
    assert _codes(issues) == ["syntax-error"]
    assert issues[0].hint is not None and "tag" in issues[0].hint
    assert not marker.exists()


# ----------------------------------------------------------- huge values


def test_a_megabyte_long_id_is_a_pattern_mismatch_with_a_short_message(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, _small_with("id: weld-1", "id: " + "w" * 1_000_000)))
    # The buffer that named weld-1 now names nothing: that is reported too.
    assert _codes(issues) == ["string-pattern-mismatch", "unknown-reference"]
    assert all(len(str(issue)) < 400 for issue in issues)


def test_a_megabyte_long_key_is_rejected(tmp_path: Path) -> None:
    issues = _rejected(_write(tmp_path, SMALL_TEXT + "k" * 1_000_000 + ": 1\n"))
    assert _codes(issues) == ["syntax-error"]


def test_a_huge_unknown_unit_gives_a_short_message(tmp_path: Path) -> None:
    text = _small_with("cycle_time: 40 s", "cycle_time: 40 " + "q" * 100_000)
    issues = _rejected(_write(tmp_path, text))
    assert len(str(issues[0])) < 400


@pytest.mark.parametrize("value", ["1e400 s", "-1e400 s", ".nan", ".inf", "-.inf", "1e400"])
def test_non_finite_duration_is_rejected(tmp_path: Path, value: str) -> None:
    issues = _rejected(_write(tmp_path, _small_with("cycle_time: 40 s", f"cycle_time: {value}")))
    assert _codes(issues) == ["wrong-unit"]
    assert issues[0].path == "sites[0].lines[0].machines[1].cycle_time"


@pytest.mark.parametrize(
    ("value", "code"),
    [(".nan", "less-than-equal"), (".inf", "less-than-equal"), ("-.inf", "greater-than-equal")],
)
def test_non_finite_latitude_is_out_of_range(tmp_path: Path, value: str, code: str) -> None:
    issues = _rejected(_write(tmp_path, _small_with("lat: 50.1", f"lat: {value}")))
    assert _codes(issues) == [code]


@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_non_finite_cv_is_rejected(tmp_path: Path, value: str) -> None:
    _rejected(_write(tmp_path, _small_with("cv: 0.1", f"cv: {value}")))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("cycle_time: 40 s", "cycle_time: 1{zeros}"),
        ("cv: 0.1", "cv: 1{zeros}"),
        ("kind: press", "kind: press\n            scrap_rate: 1{zeros}"),
    ],
    ids=["bare-duration", "distribution-cv", "ratio"],
)
def test_integer_too_large_for_a_float_is_rejected(tmp_path: Path, old: str, new: str) -> None:
    _rejected(_write(tmp_path, _small_with(old, new.format(zeros="0" * 400))))


def test_integer_of_five_thousand_digits_is_rejected(tmp_path: Path) -> None:
    _rejected(_write(tmp_path, _small_with("twinverse: 1", "twinverse: " + "9" * 5000)))


def test_unit_with_an_overflowing_power_is_rejected(tmp_path: Path) -> None:
    _rejected(_write(tmp_path, _small_with("cycle_time: 40 s", "cycle_time: 1 km^400")))


def test_weibull_with_a_tiny_shape_is_rejected(tmp_path: Path) -> None:
    text = _small_with("cycle_time: 40 s", "cycle_time: {dist: weibull, scale: 40 s, shape: 0.001}")
    _rejected(_write(tmp_path, text))


# ------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def _only_issues(path: Path) -> None:
    issues = validate_file(path)
    assert isinstance(issues, list)
    assert all(isinstance(issue, Issue) for issue in issues)


@HYPOTHESIS
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".yaml", ".json"]))
def test_arbitrary_bytes_only_ever_give_issues(scratch: Path, data: bytes, suffix: str) -> None:
    _only_issues(_write(scratch, data, "bytes" + suffix))


@HYPOTHESIS
@given(text=st.text(max_size=2048), suffix=st.sampled_from([".yaml", ".json"]))
def test_arbitrary_text_only_ever_gives_issues(scratch: Path, text: str, suffix: str) -> None:
    _only_issues(_write(scratch, text, "text" + suffix))


_YAML_ISH = st.one_of(
    st.sampled_from(list(" :-[]{},#&*!|>'\"\t\n0123456789.%/^")),
    st.characters(codec="utf-8"),
)


@st.composite
def mutated_small(draw: st.DrawFn) -> str:
    """The valid small scenario with a few lines deleted, duplicated or changed."""
    lines = list(SMALL_LINES)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "duplicate", "change"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        else:
            line = lines[i]
            j = draw(st.integers(0, max(0, len(line) - 1)))
            lines[i] = line[:j] + draw(_YAML_ISH) + line[j + 1 :]
    return "".join(lines)


@HYPOTHESIS
@given(text=mutated_small())
def test_mutated_scenario_only_ever_gives_issues(scratch: Path, text: str) -> None:
    _only_issues(_write(scratch, text, "mutated.yaml"))


@HYPOTHESIS
@given(text=mutated_small())
def test_mutated_scenario_that_loads_builds_its_graph(scratch: Path, text: str) -> None:
    path = _write(scratch, text, "mutated-load.yaml")
    try:
        loaded = load_scenario(path)
    except ScenarioError:
        return
    graph = loaded.graph()
    assert len(graph) > 0
