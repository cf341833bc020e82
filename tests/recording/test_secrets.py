"""Secrets never reach a cassette on any write path, and the end-of-run scan catches leaks.

The write paths follow kevin1024/vcrpy#961 and #983, where filtered headers came
back on append and rewrite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from recording_helpers import Project

from pytest_kimi.recording.secrets import REDACTED, Redactor

SECRET = "sk-PLACEHOLDER-SECRET-0001"

KEYED_ROUTE = """
[tool.pytest_kimi.routes.keyed]
emulator = true
flavor = "moonshot"
api_key_env = "FAKE_PROVIDER_KEY"
"""

TWO_CALLS = """
import os

def test_keyed(kimi):
    kimi.chat("What is 2 + 2? My key is " + os.environ["FAKE_PROVIDER_KEY"])
    kimi.chat(os.environ.get("PROMPT_TWO", "What is 3 + 3?"))
"""
NAME = "test_keyed[keyed-thinking]"


def _assert_clean(project: Project) -> None:
    for path in (project.root / "cassettes").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    for interaction in project.load(NAME).interactions:
        assert interaction.request["headers"]["authorization"] == REDACTED


def test_secret_absent_after_every_write(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", SECRET)
    project.configure(KEYED_ROUTE)
    project.write_test(TWO_CALLS)
    route = ("--kimi-route", "keyed")

    project.run(*route, "--kimi-record-mode", "once").assert_outcomes(passed=1)
    _assert_clean(project)
    first = project.load(NAME).interactions[0].request["json"]["messages"][0]["content"]
    assert first == f"What is 2 + 2? My key is {REDACTED}"

    monkeypatch.setenv("PROMPT_TWO", "What is 4 + 4?")
    project.run(*route, "--kimi-record-mode", "new_episodes").assert_outcomes(passed=1)
    _assert_clean(project)
    assert len(project.load(NAME).interactions) == 2

    project.run(*route, "--kimi-record-mode", "all").assert_outcomes(passed=1)
    _assert_clean(project)
    project.run(*route, "--kimi-record-mode", "none").assert_outcomes(passed=1)


def test_rewrite_redacts_old_entries(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", SECRET)
    project.configure(KEYED_ROUTE)
    project.write_test(TWO_CALLS)
    route = ("--kimi-route", "keyed")
    project.run(*route, "--kimi-record-mode", "once").assert_outcomes(passed=1)
    path = project.cassette(NAME)
    # A hand edit puts the key back into an entry that the next run keeps.
    text = path.read_text().replace(f'"{REDACTED}"', f'"Bearer {SECRET}"', 1)
    path.write_text(text)
    monkeypatch.setenv("PROMPT_TWO", "What is 5 + 5?")
    project.run(*route, "--kimi-record-mode", "new_episodes").assert_outcomes(passed=1)
    _assert_clean(project)


def test_scan_fails_run_on_leaked_key(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "kimi-test-value-1234567890")
    project.write_test("def test_plain():\n    pass\n")
    snapshots = project.root / "__snapshots__"
    snapshots.mkdir()
    (snapshots / "test_plain.ambr").write_text("line one\nkey kimi-test-value-1234567890\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert f"{snapshots / 'test_plain.ambr'}:2: the value of $KIMI_API_KEY" in output
    assert "kimi-test-value-1234567890" not in output


def test_scan_finds_provider_token(project: Project) -> None:
    project.write_test("def test_plain():\n    pass\n")
    cassettes = project.root / "cassettes" / "test_model"
    cassettes.mkdir(parents=True)
    (cassettes / "hand_made.json").write_text('{"note": "' + SECRET + '"}\n')
    result = project.run()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert f"{cassettes / 'hand_made.json'}:1: a provider key token starting 'sk-P'" in (
        result.stdout.str()
    )


def test_scan_passes_clean_run(project: Project, tmp_path: Path) -> None:
    project.write_test("def test_plain():\n    pass\n")
    (project.root / "__snapshots__").mkdir()
    (project.root / "__snapshots__" / "ok.ambr").write_text("sk-learn is a word\n")
    assert project.run().ret == pytest.ExitCode.OK


def test_redactor_headers_and_query() -> None:
    redactor = Redactor.build(["x-custom-token"], ["secret-value-123"])
    headers = redactor.headers(
        {
            "Authorization": "Bearer a",
            "X-Api-Key": "b",
            "api-key": "c",
            "x-custom-token": "d",
            "x-note": "uses secret-value-123",
        }
    )
    assert headers == {
        "Authorization": REDACTED,
        "X-Api-Key": REDACTED,
        "api-key": REDACTED,
        "x-custom-token": REDACTED,
        "x-note": f"uses {REDACTED}",
    }
    assert redactor.query("key=abc&model=k2") == f"key={REDACTED}&model=k2"
    assert redactor.text(f"url?token={SECRET}") == f"url?token={REDACTED}"


def _chunk(text: str) -> dict[str, object]:
    return {"json": {"id": "c1", "choices": [{"index": 0, "delta": {"content": text}}]}}


def test_key_split_across_chunks_is_redacted() -> None:
    from pytest_kimi.recording.secrets import REDACTED, Redactor

    redactor = Redactor.build([], ["PLACEHOLDERTESTVALUE9876"])
    events = [_chunk("Here: PLACEHOLDERTESTVAL"), _chunk("UE9876 done")]
    redacted = redactor.events(events)
    joined = "".join(e["json"]["choices"][0]["delta"]["content"] for e in redacted)
    assert "PLACEHOLDERTESTVALUE9876" not in joined
    assert REDACTED in joined
    assert joined.endswith(" done")
    assert "PLACEHOLDERTESTVAL" not in str(redacted)


def test_key_in_other_case_is_redacted() -> None:
    from pytest_kimi.recording.secrets import Redactor

    redactor = Redactor.build([], ["PlaceHolderTestValue9876"])
    assert "placeholdertestvalue9876" not in redactor.text("echo placeholdertestvalue9876")


def test_scan_finds_key_split_across_chunks(tmp_path: Path) -> None:
    import json as json_module

    from pytest_kimi.recording.scan import scan_files

    cassette = tmp_path / "cassettes" / "t.json"
    cassette.parent.mkdir()
    events = [_chunk("Here: PLACEHOLDERTESTVAL"), _chunk("UE9876 done")]
    cassette.write_text(json_module.dumps({"interactions": [{"response": {"events": events}}]}))
    leaks = scan_files([tmp_path], [], {"MY_KEY": "PLACEHOLDERTESTVALUE9876"})
    assert [leak.leak.what for leak in leaks] == ["the value of $MY_KEY, split across stream chunks"]
