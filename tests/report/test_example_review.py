"""Two runs of the example pack with two changed answers: the review flags exactly those two."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pytest_kimi.report.compare import compare, render_markdown

ROOT = Path(__file__).resolve().parents[2]
CHANGED = {
    "scripts": [
        {"match": {"contains": "Email field"}, "reply": {"content": "The Email field is empty."}},
        {"match": {"contains": "Charon"}, "reply": {"content": "Charon was named in 1978."}},
    ]
}


def _run_examples(report: Path, *extra: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:cacheprovider",
         "--kimi-mode", "instant", "--kimi-report", str(report), *extra],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=600,
    )


def test_review_flags_exactly_the_changed_tests(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    script = tmp_path / "changed.json"
    script.write_text(json.dumps(CHANGED))
    _run_examples(old)
    _run_examples(new, "--kimi-emulator-script", str(script))

    review = compare(old, new)

    flagged = sorted(change.test_id for change in review.changes if change.category != "unchanged")
    assert flagged == [
        "examples/test_grounded_answer.py::test_question_outside_the_document_is_refused[emulator-instant]",
        "examples/test_vision.py::test_screenshot_field_value[emulator-instant]",
    ]
    markdown = render_markdown(review)
    assert "+The Email field is empty." in markdown
    assert "+Charon was named in 1978." in markdown
