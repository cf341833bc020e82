"""Plugin behaviour through pytester: selection, ids, markers, settings and bad input."""

from __future__ import annotations

import pytest

SIMPLE_TEST = """
def test_math(kimi):
    reply = kimi.chat("What is 17 * 23?")
    assert reply.content == "391"
"""


def test_runs_once_per_route_and_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*test_math[[]emulator-thinking[]] PASSED*", "*test_math[[]emulator-instant[]] PASSED*"]
    )


def test_header_says_emulator_output_is_not_k26(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "pytest-kimi: kimi fixture routes: emulator (embedded emulator, moonshot profile)*",
            "*emulator output, not Kimi K2.6 output",
        ]
    )


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("-p", "no:kimi")
    result.stdout.fnmatch_lines(["*fixture 'kimi' not found*"])


def test_cli_narrows_routes_and_modes(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi.routes.emu-vllm]
flavor = "vllm"
emulator = true
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("-v", "--kimi-route", "emu-vllm,emulator", "--kimi-mode", "instant")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*[[]emu-vllm-instant[]]*", "*[[]emulator-instant[]]*"])


def test_marker_narrows_modes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.kimi(modes=["preserve"])
def test_only_preserve(kimi):
    assert kimi.mode == "preserve"
""")
    result = pytester.runpytest("-v", "--kimi-mode", "thinking,preserve")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*[[]emulator-preserve[]] PASSED*"])


def test_marker_with_no_match_skips_with_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.kimi(modes=["preserve"])
def test_only_preserve(kimi):
    pass
""")
    result = pytester.runpytest("-rs", "--kimi-mode", "instant")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no selected route and mode matches this test's kimi marker*"])


def test_marker_rejects_unknown_arguments(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.kimi(route="emulator")
def test_typo(kimi):
    pass
""")
    result = pytester.runpytest()
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*unknown kimi marker argument(s) route; the kimi marker accepts*"]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_unknown_route_is_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("--kimi-route", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown route 'nope': the known routes are emulator, moonshot*"])


def test_unknown_mode_is_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("--kimi-mode", "fast")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown mode 'fast'*thinking, instant, preserve*"])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[tool.pytest_kimi]\nmodes = ["thinking", "turbo"]\n',
            "*invalid tool.pytest_kimi.modes.1*",
        ),
        ("[tool.pytest_kimi]\ntimeout = 3\n", "*Additional properties are not allowed ('timeout'*"),
        (
            '[tool.pytest_kimi.routes.x]\nflavor = "tgi"\nbase_url = "http://127.0.0.1:1/v1"\n',
            "*invalid tool.pytest_kimi.routes.x.flavor*",
        ),
        ('[tool.pytest_kimi.routes.x]\nflavor = "vllm"\n', "*route 'x'*has no base_url*"),
        (
            '[tool.pytest_kimi.routes.x]\nflavor = "vllm"\nbase_url = "localhost:8000"\n',
            "*invalid base_url 'localhost:8000' for route 'x'*",
        ),
        ('[tool.pytest_kimi]\ndefault_routes = ["ghost"]\n', "*unknown route 'ghost'*"),
        (
            "[tool.pytest_kimi.routes.x]\nemulator = {wobble = true}\n",
            "*unknown emulator option(s) wobble*",
        ),
        ("[tool.pytest_kimi\n", "*pyproject.toml: Expected*"),
    ],
    ids=[
        "mode",
        "unknown-key",
        "flavor",
        "no-base-url",
        "bad-url",
        "default-route",
        "emulator-option",
        "toml-syntax",
    ],
)
def test_bad_settings_are_usage_errors(pytester: pytest.Pytester, table: str, message: str) -> None:
    pytester.path.joinpath("pyproject.toml").write_text(table)
    pytester.makepyfile(SIMPLE_TEST)
    result = (
        pytester.runpytest("--kimi-route", "x") if "emulator = {" in table else pytester.runpytest()
    )
    assert result.ret in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.TESTS_FAILED, 4)
    output = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in output
    result_lines = result.outlines + result.errlines
    from fnmatch import fnmatch

    assert any(fnmatch(line, message) for line in result_lines), output


def test_api_key_in_config_is_rejected(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi.routes.live]
flavor = "moonshot"
base_url = "https://api.moonshot.ai/v1"
api_key = "sk-PLACEHOLDER"
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*keys are read only from the environment*"])


def test_unset_key_skips_live_route(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    monkeypatch.delenv("MOONSHOT_API_KEY", raising=False)
    monkeypatch.delenv("MY_KEY", raising=False)
    pytester.makepyprojecttoml("""
[tool.pytest_kimi.routes.live]
flavor = "vllm"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "MY_KEY"
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("-rs", "--kimi-route", "live")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*route 'live' needs an API key: MY_KEY is not set*"])


def test_missing_capability_skips_with_route_and_capability(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi]
modes = ["thinking"]
[tool.pytest_kimi.routes.emu-vllm]
flavor = "vllm"
emulator = true
""")
    pytester.makepyfile("""
import pytest

@pytest.mark.kimi(needs=["video"])
def test_video(kimi):
    pass
""")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*route 'emu-vllm' (vllm) does not support 'video'*"])


def test_route_problem_is_labelled(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi]
modes = ["thinking"]
[tool.pytest_kimi.routes.broken]
flavor = "vllm"
emulator = {no_reasoning_parser = true}
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*KimiRouteError: route problem on 'broken'*reasoning leaked into content on route broken*",
            "*route problem (reasoning_markup) on route 'broken': fix the route, not the model test*",
        ]
    )


def test_kimi_emulator_fixture_scripts_and_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.kimi(modes=["instant"])
def test_scripted(kimi, kimi_emulator):
    kimi_emulator.script(match={"contains": "refund"}, reply={"content": "Within 30 days."})
    assert kimi.chat("What is the refund policy?").content == "Within 30 days."
    assert kimi_emulator.last_body["thinking"] == {"type": "disabled"}
    assert len(kimi_emulator.requests) == 1

@pytest.mark.kimi(modes=["instant"])
def test_script_gone(kimi, kimi_emulator):
    assert kimi.chat("What is the refund policy?").content != "Within 30 days."
    assert len(kimi_emulator.requests) == 1
""")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_script_file_option(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("scripts.json").write_text(
        '{"scripts": [{"match": {"contains": "17 * 23"}, "reply": {"content": "scripted"}}]}'
    )
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("--kimi-emulator-script", "scripts.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*AssertionError: assert 'scripted' == '391'*"])


def test_bad_script_file_is_usage_error(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("scripts.json").write_text(
        '{"scripts": [{"match": {"when": 1}, "reply": {}}]}'
    )
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("--kimi-emulator-script", "scripts.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown match key(s) when*"])


def test_runs_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIMPLE_TEST * 1 + SIMPLE_TEST.replace("test_math", "test_math_two"))
    result = pytester.runpytest("-n", "2")
    result.assert_outcomes(passed=4)


def test_help_lists_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "pytest-kimi:",
            "*--kimi-route=NAME*",
            "*--kimi-mode=MODE*",
            "*--kimi-emulator-script=FILE*",
        ]
    )


def test_video_on_route_without_video_is_skipped(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi]
modes = ["instant"]
[tool.pytest_kimi.routes.emu-vllm]
flavor = "vllm"
emulator = true
""")
    pytester.makepyfile("""
from pytest_kimi.media import video_or_frames

def test_clip(kimi, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\\x00\\x00\\x00\\x18ftypmp42" + bytes(64))
    parts = video_or_frames(clip, supports_video=kimi.route.supports("video"),
                            fallback="skip", route=kimi.route.name)
    kimi.chat([*parts, "What happens in the clip?"])
""")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*emu-vllm*video*"])


@pytest.mark.parametrize("where", ["under-a-file", "directory"])
def test_unwritable_report_path_is_usage_error(pytester: pytest.Pytester, where: str) -> None:
    pytester.makepyfile(SIMPLE_TEST)
    pytester.path.joinpath("plain.txt").write_text("not a folder")
    target = pytester.path / "plain.txt" / "r.json" if where == "under-a-file" else pytester.path
    result = pytester.runpytest("--kimi-report", str(target))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kimi-report*"])


def test_misspelt_emulator_option_names_route(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi.routes.broken]
flavor = "vllm"
emulator = {no_reasoning_parsr = true}
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*route 'broken'*unknown emulator option(s) no_reasoning_parsr*"])


@pytest.mark.parametrize(
    ("option", "message"),
    [("latency_s = 'slow'", "*emulator option latency_s = 'slow' is invalid: expected int or float*"),
     ("reasoning_field = 'thoughts'", "*reasoning_field = 'thoughts' is invalid*")],
)
def test_wrong_emulator_option_type(pytester: pytest.Pytester, option: str, message: str) -> None:
    pytester.makepyprojecttoml(f"""
[tool.pytest_kimi.routes.broken]
flavor = "vllm"
emulator = {{{option}}}
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_out_of_range_port_is_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
[tool.pytest_kimi.routes.local]
flavor = "vllm"
base_url = "http://127.0.0.1:99999/v1"
""")
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*port is not a number from 1 to 65535*"])


def test_keyless_self_hosted_route_runs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_kimi.emulator.embedded import start_embedded_emulator

    monkeypatch.setenv("KIMI_API_KEY", "sk-PLACEHOLDER-OFFICIAL-KEY-0001")
    server = start_embedded_emulator()
    try:
        pytester.makepyprojecttoml(f"""
[tool.pytest_kimi]
modes = ["thinking"]
[tool.pytest_kimi.routes.local]
flavor = "vllm"
base_url = "{server.base_url('vllm')}"
""")
        pytester.makepyfile(SIMPLE_TEST)
        result = pytester.runpytest("--kimi-route", "local", "--kimi-record-mode", "once")
        result.assert_outcomes(passed=1)
    finally:
        server.stop()
