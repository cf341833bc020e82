"""Record modes, their precedence, the missing-recording message and invalid settings."""

from __future__ import annotations

import pytest
from recording_helpers import Project

# Each call's prompt comes from the environment, so a re-run can change one request.
TWO_CALLS = """
import os

def test_two(kimi, kimi_emulator):
    first = kimi.chat(os.environ.get("PROMPT_ONE", "What is 2 + 2?"))
    second = kimi.chat(os.environ.get("PROMPT_TWO", "What is 3 + 3?"))
    assert first.content and second.content
    print("EMULATOR_REQUESTS", len(kimi_emulator.requests))
"""

NAME = "test_two[emulator-thinking]"


def _emulator_requests(result: pytest.RunResult) -> int:
    lines = [line for line in result.outlines if "EMULATOR_REQUESTS" in line]
    return int(lines[-1].split("EMULATOR_REQUESTS")[1].split()[0])


def _prompts(project: Project) -> list[str]:
    cassette = project.load(NAME)
    return [item.request["json"]["messages"][-1]["content"] for item in cassette.interactions]


def test_default_mode_calls_emulator_without_recording(project: Project) -> None:
    project.write_test(TWO_CALLS)
    result = project.run("-s")
    result.assert_outcomes(passed=1)
    assert _emulator_requests(result) == 2
    assert not (project.root / "cassettes").exists()


def test_explicit_none_fails_without_cassette(project: Project) -> None:
    project.write_test(TWO_CALLS)
    result = project.run("--kimi-record-mode", "none")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "test_model.py::test_two[emulator-thinking]" in output
    assert f"{project.cassette(NAME)} (missing)" in output
    assert "record mode: none (from --kimi-record-mode)" in output
    assert "pytest 'test_model.py::test_two[emulator-thinking]' --kimi-record-mode once" in output
    assert not (project.root / "cassettes").exists()


def test_once_records_then_replays_offline(project: Project) -> None:
    project.write_test(TWO_CALLS)
    first = project.run("-s", "--kimi-record-mode", "once")
    first.assert_outcomes(passed=1)
    assert _emulator_requests(first) == 2
    assert _prompts(project) == ["What is 2 + 2?", "What is 3 + 3?"]
    before = project.cassette(NAME).read_bytes()

    again = project.run("-s", "--kimi-record-mode", "once")
    again.assert_outcomes(passed=1)
    assert _emulator_requests(again) == 0
    assert project.cassette(NAME).read_bytes() == before


def test_default_mode_calls_emulator_live(project: Project) -> None:
    project.write_test(TWO_CALLS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    before = project.cassette(NAME).read_bytes()
    live = project.run("-s")
    live.assert_outcomes(passed=1)
    assert _emulator_requests(live) == 2
    assert project.cassette(NAME).read_bytes() == before


def test_explicit_none_replays_existing_cassette(project: Project) -> None:
    project.write_test(TWO_CALLS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    result = project.run("-s", "--kimi-record-mode", "none")
    result.assert_outcomes(passed=1)
    assert _emulator_requests(result) == 0


def test_once_with_cassette_rejects_new_request(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_test(TWO_CALLS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    monkeypatch.setenv("PROMPT_TWO", "What is 4 + 4?")
    result = project.run("--kimi-record-mode", "once")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "record mode: once (from --kimi-record-mode)" in output
    assert "--kimi-record-mode new_episodes" in output
    assert _prompts(project) == ["What is 2 + 2?", "What is 3 + 3?"]


def test_new_episodes_appends_and_prunes(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_test(TWO_CALLS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    first_recorded_at = project.load(NAME).interactions[0].recorded_at
    monkeypatch.setenv("PROMPT_TWO", "What is 4 + 4?")
    result = project.run("-s", "--kimi-record-mode", "new_episodes")
    result.assert_outcomes(passed=1)
    assert _emulator_requests(result) == 1
    assert _prompts(project) == ["What is 2 + 2?", "What is 4 + 4?"]
    assert project.load(NAME).interactions[0].recorded_at == first_recorded_at


def test_new_episodes_keeps_entries_when_test_fails(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_test(TWO_CALLS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    project.write_test(TWO_CALLS.replace("assert first.content", "assert False and first"))
    monkeypatch.setenv("PROMPT_TWO", "What is 4 + 4?")
    project.run("--kimi-record-mode", "new_episodes").assert_outcomes(failed=1)
    assert _prompts(project) == ["What is 2 + 2?", "What is 3 + 3?", "What is 4 + 4?"]


def test_all_rerecords_everything(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_test(TWO_CALLS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    monkeypatch.setenv("PROMPT_TWO", "What is 4 + 4?")
    result = project.run("-s", "--kimi-record-mode", "all")
    result.assert_outcomes(passed=1)
    assert _emulator_requests(result) == 2
    assert _prompts(project) == ["What is 2 + 2?", "What is 4 + 4?"]


def test_repeated_request_replays_in_order(project: Project) -> None:
    project.write_test(
        """
def test_same(kimi):
    first = kimi.chat("What is 5 + 5?")
    second = kimi.chat("What is 5 + 5?")
    print("IDS", first.id, second.id)
"""
    )
    recorded = project.run("-s", "--kimi-record-mode", "once")
    recorded.assert_outcomes(passed=1)
    replayed = project.run("-s", "--kimi-record-mode", "none")
    replayed.assert_outcomes(passed=1)
    ids = [line.split("IDS")[1].split() for line in recorded.outlines if "IDS" in line]
    again = [line.split("IDS")[1].split() for line in replayed.outlines if "IDS" in line]
    assert ids == again
    assert len(set(ids[0])) == 2


MODE_TEST = """
import pytest

@pytest.mark.kimi(record_mode={marker!r})
def test_mode(kimi):
    kimi.chat("What is 6 + 6?")
"""


@pytest.mark.parametrize(
    ("cli", "pyproject", "marker", "expected"),
    [
        (None, None, "all", "all"),
        (None, "once", "all", "once"),
        ("new_episodes", "once", "all", "new_episodes"),
        ("all", None, "once", "all"),
    ],
    ids=["marker", "pyproject-over-marker", "cli-over-all", "cli-over-marker"],
)
def test_record_mode_precedence(
    project: Project, cli: str | None, pyproject: str | None, marker: str, expected: str
) -> None:
    if pyproject is not None:
        project.configure(f'\n[tool.pytest_kimi.record]\nmode = "{pyproject}"\n')
    project.write_test(MODE_TEST.format(marker=marker))
    args = ["--kimi-record-mode", cli] if cli else []
    project.run(*args).assert_outcomes(passed=1)
    provenance = project.raw("test_mode[emulator-thinking]")["provenance"]
    assert provenance["record_mode"] == expected


def test_cli_none_overrides_pyproject(project: Project) -> None:
    project.configure('\n[tool.pytest_kimi.record]\nmode = "once"\n')
    project.write_test(MODE_TEST.format(marker="all"))
    result = project.run("--kimi-record-mode", "none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*record mode: none (from --kimi-record-mode)*"])


def test_pyproject_mode_named_in_message(project: Project) -> None:
    project.configure('\n[tool.pytest_kimi.record]\nmode = "none"\n')
    project.write_test(MODE_TEST.format(marker="all"))
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*record mode: none (from [[]tool.pytest_kimi.record] mode)*"])


@pytest.mark.parametrize(
    ("table", "bad"),
    [
        ('mode = "sometimes"', "'sometimes'"),
        ('trace_policy = "hide"', "'hide'"),
        ("dir = 3", "3"),
        ('colour = "red"', "colour"),
    ],
    ids=["mode", "trace-policy", "dir", "unknown-key"],
)
def test_invalid_record_table_is_usage_error(project: Project, table: str, bad: str) -> None:
    project.configure(f"\n[tool.pytest_kimi.record]\n{table}\n")
    project.write_test(MODE_TEST.format(marker="none"))
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert "tool.pytest_kimi.record" in error
    assert bad in error


def test_invalid_marker_mode_fails_test(project: Project) -> None:
    project.write_test(MODE_TEST.format(marker="sometimes"))
    result = project.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*record_mode='sometimes' is invalid*"])


def test_invalid_cli_mode_is_usage_error(project: Project) -> None:
    project.write_test(MODE_TEST.format(marker="none"))
    result = project.run("--kimi-record-mode", "sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "'sometimes'" in result.stderr.str()
