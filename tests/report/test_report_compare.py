"""The model-upgrade review built from two report files."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pytest_kimi.report import build_report, compare, compare_main
from pytest_kimi.report.compare import render_html, render_markdown, word_diff_html
from pytest_kimi.report.records import write_report

CHROMIUM = Path("/usr/bin/chromium")


def _png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _call(test_id: str, content: str, **kw: Any) -> dict[str, Any]:
    return {
        "content": content,
        "emulated": kw.get("emulated", False),
        "finish_reason": "stop",
        "flavor": kw.get("flavor", "moonshot"),
        "images": kw.get("images", []),
        "mode": "thinking",
        "model": kw.get("model", "kimi-k2.6"),
        "outcome": kw.get("outcome", "passed"),
        "reasoning_chars": 10,
        "route": "official",
        "snapshot_verdicts": [],
        "test_id": test_id,
        "timings": {"total_s": kw.get("total_s", 1.0), "time_to_first_token_s": 0.2},
        "tool_calls": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "reasoning_tokens": 2},
    }


def _write(path: Path, outcomes: dict[str, str], contents: dict[str, str], **kw: Any) -> Path:
    calls = [
        _call(test_id, contents[test_id], outcome=outcome, **kw)
        for test_id, outcome in outcomes.items()
    ]
    tests = [
        {
            "duration_s": 1.0,
            "mode": "thinking",
            "outcome": outcome,
            "route": "official",
            "test_id": test_id,
        }
        for test_id, outcome in outcomes.items()
    ]
    write_report(build_report(calls, tests), path)
    return path


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    old = _write(
        tmp_path / "old.json",
        {"t::a": "passed", "t::b": "passed", "t::c": "passed"},
        {"t::a": "Paris is the capital", "t::b": "same", "t::c": "old words here"},
    )
    new = _write(
        tmp_path / "new.json",
        {"t::a": "failed", "t::b": "passed", "t::c": "passed"},
        {
            "t::a": "Lyon is the capital <script>alert(1)</script>",
            "t::b": "same",
            "t::c": "new words here",
        },
        model="kimi-k2.7",
        images=[_png_data_url()],
        total_s=3.0,
    )
    return old, new


def test_categories_in_order(reports: tuple[Path, Path]) -> None:
    review = compare(*reports)
    assert [c.test_id for c in review.by_category("regression")] == ["t::a"]
    assert [c.test_id for c in review.by_category("changed")] == ["t::c"]
    assert [c.test_id for c in review.by_category("unchanged")] == ["t::b"]


def test_provenance_change_listed(reports: tuple[Path, Path]) -> None:
    review = compare(*reports)
    assert review.provenance == ["route official: model 'kimi-k2.6' -> 'kimi-k2.7'"]


def test_html_escapes_content(reports: tuple[Path, Path]) -> None:
    page = render_html(compare(*reports))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'src="data:image/png;base64,' in page
    assert "http://" not in page and "https://" not in page


def test_html_orders_regressions_first(reports: tuple[Path, Path]) -> None:
    page = render_html(compare(*reports))
    assert page.index("Regressions") < page.index("Changed outputs") < page.index("Unchanged")


def test_word_diff_marks_words() -> None:
    left, right = word_diff_html("the old cat", "the new cat")
    assert left == "the <del>old</del> cat"
    assert right == "the <ins>new</ins> cat"


def test_markdown_metrics_deltas(reports: tuple[Path, Path]) -> None:
    text = render_markdown(compare(*reports))
    assert "| official / thinking | 100% → 67% (-33 pp) | 1.00s → 3.00s (+2.00s)" in text
    assert "provenance changed: route official: model" in text
    assert text.index("### Regressions") < text.index("### Changed outputs")


def test_markdown_truncated_with_note(tmp_path: Path) -> None:
    outcomes = {f"t::case{i}": "passed" for i in range(400)}
    old = _write(tmp_path / "o.json", outcomes, {k: "x " * 200 for k in outcomes})
    new = _write(tmp_path / "n.json", outcomes, {k: "y " * 200 for k in outcomes})
    text = render_markdown(compare(old, new), max_chars=5_000)
    assert len(text) <= 5_000
    assert "Truncated:" in text


def test_cli_writes_files(reports: tuple[Path, Path], tmp_path: Path) -> None:
    html_path, md_path = tmp_path / "r.html", tmp_path / "r.md"
    args = [str(reports[0]), str(reports[1]), "--html", str(html_path), "--markdown", str(md_path)]
    assert compare_main(args) == 0
    assert compare_main([*args, "--fail-on-regression"]) == 1
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    assert md_path.read_text().startswith("## pytest-kimi review")


def test_cli_rejects_other_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    assert compare_main([str(other), str(other)]) == 2
    assert "expected 'pytest-kimi-report/1'" in capsys.readouterr().err


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} not found; install it with 'apt-get install chromium' to render "
    "the review in a headless browser",
)
def test_html_renders_in_chromium(reports: tuple[Path, Path], tmp_path: Path) -> None:
    page = tmp_path / "review.html"
    page.write_text(render_html(compare(*reports)), encoding="utf-8")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        page.as_uri(),
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "Regressions (passed before, fail now) (1)" in dom
    assert "<script>alert" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert shutil.which(str(CHROMIUM))


def test_compare_rejects_wrongly_shaped_report(tmp_path: Path) -> None:
    from pytest_kimi.report.compare import compare_main

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"format": "pytest-kimi-report/1", "header": {}, "calls": [], "tests": []}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "pytest-kimi-report/1", "header": {}, "calls": 5, "tests": []}))
    assert compare_main([str(good), str(bad)]) == 2


def test_compare_reports_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_kimi.report.compare import compare_main

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"format": "pytest-kimi-report/1", "header": {}, "calls": [], "tests": []}))
    status = compare_main([str(good), str(good), "--html", str(tmp_path / "missing" / "r.html")])
    assert status == 2
    assert "cannot write" in capsys.readouterr().err
