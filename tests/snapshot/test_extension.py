"""Behaviour of KimiReplyExtension and kimi_snapshot inside real pytest runs."""

from __future__ import annotations

import json

import pytest

from tests.snapshot.conftest import PLUGIN_ARGS

RESPONSE_A = {
    "id": "chatcmpl-AAA",
    "created": 1770000000,
    "system_fingerprint": "fp_1",
    "model": "kimi-k2.6",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Done.",
                "tool_calls": [
                    {
                        "id": "call_x1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a":1}'},
                    },
                    {
                        "id": "call_x2",
                        "type": "function",
                        "function": {"name": "g", "arguments": "{}"},
                    },
                ],
            },
        }
    ],
}


def _variant(content: str = "Done.", arguments: str = '{"a":1}') -> dict[str, object]:
    """Return RESPONSE_A with every volatile value changed, plus the given edits."""
    body = json.loads(json.dumps(RESPONSE_A))
    body.update(id="chatcmpl-BBB", created=1770000999, system_fingerprint="fp_2")
    message = body["choices"][0]["message"]
    message["content"] = content
    message["tool_calls"][0]["id"] = "call_y1"
    message["tool_calls"][1]["id"] = "call_y2"
    message["tool_calls"][0]["function"]["arguments"] = arguments
    return body


def _write_response_test(pytester: pytest.Pytester, body: object) -> None:
    pytester.makepyfile(
        test_raw=f"""
        from pytest_kimi.snapshot import KimiReplyExtension

        BODY = {body!r}

        def test_response(snapshot):
            assert BODY == snapshot(extension_class=KimiReplyExtension)
        """
    )


def test_volatile_fields_masked(kimi_pytester: pytest.Pytester) -> None:
    _write_response_test(kimi_pytester, RESPONSE_A)
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    stored = (kimi_pytester.path / "__snapshots__" / "test_raw.ambr").read_text()
    assert "chatcmpl-AAA" not in stored
    assert "call_x1" not in stored
    assert "call_x2" not in stored
    assert "fp_1" not in stored

    _write_response_test(kimi_pytester, _variant())
    result = kimi_pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "edit",
    [{"content": "Done!"}, {"arguments": '{"a":2}'}],
    ids=["content", "arguments"],
)
def test_real_change_mismatches(kimi_pytester: pytest.Pytester, edit: dict[str, str]) -> None:
    _write_response_test(kimi_pytester, RESPONSE_A)
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    _write_response_test(kimi_pytester, _variant(**edit))
    result = kimi_pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*field 'response' failed policy json*"])


def _write_reply_test(pytester: pytest.Pytester, content: str, options: str, **kw: str) -> None:
    extra = "".join(f", {key}={value!r}" for key, value in kw.items())
    pytester.makepyfile(
        test_reply=f"""
        from pytest_kimi.snapshot import kimi_snapshot
        from replyhelper import make_reply

        def test_reply(snapshot):
            reply = make_reply(content={content!r}{extra})
            assert reply == kimi_snapshot(snapshot{options})
        """
    )


def test_similar_policy_scores(kimi_pytester: pytest.Pytester) -> None:
    options = ', policies={"content": "similar(0.8)"}'
    original = "the quick brown fox jumps over the lazy dog near the river bank"
    _write_reply_test(kimi_pytester, original, options)
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)

    _write_reply_test(kimi_pytester, original.replace("lazy", "sleepy"), options)
    kimi_pytester.runpytest(*PLUGIN_ARGS).assert_outcomes(passed=1)

    _write_reply_test(kimi_pytester, "a completely different answer", options)
    result = kimi_pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*field 'content' failed policy similar(0.8) (score 0*): word similarity*"]
    )


def test_exact_policy_shows_diff(kimi_pytester: pytest.Pytester) -> None:
    _write_reply_test(kimi_pytester, "Paris", "")
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    _write_reply_test(kimi_pytester, "Lyon", "")
    result = kimi_pytester.runpytest(*PLUGIN_ARGS, "-vv")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*[[]+ received[]] == [[]- snapshot[]]*",
            "*field 'content' failed policy exact (score 0): values differ*",
            '*"value": "Paris"*',
            '*"value": "Lyon"*',
        ]
    )


def test_provenance_not_compared(kimi_pytester: pytest.Pytester) -> None:
    _write_reply_test(kimi_pytester, "Paris", "", route="official", model="kimi-k2.6")
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    _write_reply_test(kimi_pytester, "Paris", "", route="vllm", model="moonshotai/Kimi-K2.6")
    kimi_pytester.runpytest(*PLUGIN_ARGS).assert_outcomes(passed=1)
    stored = (kimi_pytester.path / "__snapshots__" / "test_reply.ambr").read_text()
    assert '"route": "official"' in stored


def test_policy_change_needs_update(kimi_pytester: pytest.Pytester) -> None:
    _write_reply_test(kimi_pytester, "Paris", "")
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    _write_reply_test(kimi_pytester, "Paris", ', policies={"content": "similar(0.5)"}')
    result = kimi_pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*policy changed from exact to similar(0.5)*"])


def test_reasoning_text_only_with_store(kimi_pytester: pytest.Pytester) -> None:
    _write_reply_test(kimi_pytester, "Paris", "", reasoning="secret chain of thought")
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    stored = (kimi_pytester.path / "__snapshots__" / "test_reply.ambr").read_text()
    assert "secret chain of thought" not in stored
    assert '"chars": 23' in stored

    # The reasoning field is never compared, so a changed trace_policy does not rewrite an
    # existing snapshot; record afresh.
    (kimi_pytester.path / "__snapshots__" / "test_reply.ambr").unlink()
    options = ', trace_policy="store"'
    _write_reply_test(kimi_pytester, "Paris", options, reasoning="secret chain of thought")
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    stored = (kimi_pytester.path / "__snapshots__" / "test_reply.ambr").read_text()
    assert "secret chain of thought" in stored


def test_mixed_with_default_snapshot(kimi_pytester: pytest.Pytester) -> None:
    kimi_pytester.makepyfile(
        test_mixed="""
        from pytest_kimi.snapshot import KimiReplyExtension
        from replyhelper import make_reply

        def test_mixed(snapshot):
            assert {"plain": 1} == snapshot
            assert make_reply() == snapshot(extension_class=KimiReplyExtension)
        """
    )
    kimi_pytester.runpytest(*PLUGIN_ARGS, "--snapshot-update").assert_outcomes(passed=1)
    result = kimi_pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*2 snapshots passed*"])
    result.stdout.no_fnmatch_line("*unused*")
