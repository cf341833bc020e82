"""The model-upgrade review: compare two run reports and render HTML and Markdown.

`pytest-kimi compare OLD.json NEW.json --html out.html --markdown out.md`
"""

from __future__ import annotations

import argparse
import difflib
import html
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_kimi.report.records import load_report
from pytest_kimi.report.stats import RouteStats, route_stats

__all__ = [
    "MARKDOWN_MAX_CHARS",
    "Review",
    "TestChange",
    "compare",
    "compare_main",
    "main",
    "render_html",
    "render_markdown",
]

# GitHub rejects a PR comment or step summary above 65,536 characters.
MARKDOWN_MAX_CHARS = 65_000

Category = Literal["regression", "changed", "unchanged"]
_CATEGORY_TITLES = {
    "regression": "Regressions (passed before, fail now)",
    "changed": "Changed outputs",
    "unchanged": "Unchanged",
}
_FAILING = ("failed", "error", "xpassed")


@dataclass
class TestChange:
    """One test in both runs (or in one of them), with its calls side by side."""

    test_id: str
    category: Category
    old_outcome: str | None
    new_outcome: str | None
    old_calls: list[dict[str, Any]] = field(default_factory=list)
    new_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Review:
    """The comparison of an old and a new run report."""

    old: dict[str, Any]
    new: dict[str, Any]
    changes: list[TestChange]
    route_rows: list[tuple[str, str, RouteStats | None, RouteStats | None]]
    provenance: list[str]

    def by_category(self, category: Category) -> list[TestChange]:
        """Return the changes of one category, in test id order."""
        return [change for change in self.changes if change.category == category]


def compare(old_path: Path | str, new_path: Path | str) -> Review:
    """Load two reports and compare them test by test and route by route.

    Raises:
        ValueError: a file is not a `pytest-kimi-report/1` report.
    """
    old, new = load_report(Path(old_path)), load_report(Path(new_path))
    changes = _test_changes(old, new)
    old_stats = {(row.route, row.mode): row for row in route_stats(old)}
    new_stats = {(row.route, row.mode): row for row in route_stats(new)}
    rows = [
        (route, mode, old_stats.get((route, mode)), new_stats.get((route, mode)))
        for route, mode in sorted(set(old_stats) | set(new_stats))
    ]
    return Review(old, new, changes, rows, _provenance_changes(old, new))


def _test_changes(old: dict[str, Any], new: dict[str, Any]) -> list[TestChange]:
    old_tests = {test["test_id"]: test for test in old.get("tests", [])}
    new_tests = {test["test_id"]: test for test in new.get("tests", [])}
    old_calls, new_calls = _calls_by_test(old), _calls_by_test(new)
    changes = []
    for test_id in sorted(set(old_tests) | set(new_tests)):
        before = old_tests.get(test_id, {}).get("outcome")
        after = new_tests.get(test_id, {}).get("outcome")
        calls_before, calls_after = old_calls.get(test_id, []), new_calls.get(test_id, [])
        category: Category = "unchanged"
        if before == "passed" and after in _FAILING:
            category = "regression"
        elif before != after or _outputs(calls_before) != _outputs(calls_after):
            category = "changed"
        changes.append(TestChange(test_id, category, before, after, calls_before, calls_after))
    return changes


def _calls_by_test(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for call in report.get("calls", []):
        grouped.setdefault(call["test_id"], []).append(call)
    return grouped


def _outputs(calls: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (call.get("content"), [(t["name"], t["arguments"]) for t in call.get("tool_calls", [])])
        for call in calls
    ]


def _provenance_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    old_routes = {route["route"]: route for route in old["header"].get("routes", [])}
    new_routes = {route["route"]: route for route in new["header"].get("routes", [])}
    lines = []
    for name in sorted(set(old_routes) | set(new_routes)):
        before, after = old_routes.get(name), new_routes.get(name)
        if before is None or after is None:
            where = "new" if before is None else "old"
            lines.append(f"route {name} appears only in the {where} run")
            continue
        for key in ("model", "flavor", "emulated"):
            if before.get(key) != after.get(key):
                lines.append(f"route {name}: {key} {before.get(key)!r} -> {after.get(key)!r}")
    return lines


def word_diff_html(old: str, new: str) -> tuple[str, str]:
    """Return the old and new text as escaped HTML with removed and added words marked."""
    old_tokens, new_tokens = re.findall(r"\s+|\S+", old), re.findall(r"\s+|\S+", new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    left: list[str] = []
    right: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed = html.escape("".join(old_tokens[i1:i2]))
        added = html.escape("".join(new_tokens[j1:j2]))
        if tag == "equal":
            left.append(removed)
            right.append(added)
            continue
        if removed:
            left.append(f"<del>{removed}</del>")
        if added:
            right.append(f"<ins>{added}</ins>")
    return "".join(left), "".join(right)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
pre{white-space:pre-wrap;margin:0;font-size:13px}
del{background:#fdd;text-decoration:line-through}
ins{background:#dfd;text-decoration:none}
.notice{background:#fff4ce;padding:8px;border:1px solid #e0c060}
.regression h3{color:#a00}
img{max-width:320px;max-height:240px;border:1px solid #ccc}
"""


def render_html(review: Review) -> str:
    """Return the review as one self-contained HTML page (inline CSS, no scripts)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>pytest-kimi review</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>pytest-kimi review</h1>",
        _html_header(review),
        "<h2>Routes and modes</h2>",
        _html_metrics(review),
    ]
    for category in ("regression", "changed", "unchanged"):
        changes = review.by_category(category)
        parts.append(f"<h2>{_CATEGORY_TITLES[category]} ({len(changes)})</h2>")
        parts.extend(_html_change(change) for change in changes)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_header(review: Review) -> str:
    rows = []
    for label, report in (("old", review.old), ("new", review.new)):
        header = report["header"]
        routes = ", ".join(
            f"{r['route']} ({r['flavor']}, {r['model']}{', emulated' if r['emulated'] else ''})"
            for r in header.get("routes", [])
        )
        rows.append(
            f"<tr><th>{label}</th><td>{html.escape(str(header.get('created')))}</td>"
            f"<td>{html.escape(str(header.get('plugin_version')))}</td>"
            f"<td>{html.escape(routes)}</td></tr>"
        )
    notices = {r["header"].get("notice") for r in (review.old, review.new)} - {None}
    out = [
        "<table><tr><th>run</th><th>created</th><th>plugin</th><th>routes</th></tr>",
        *rows,
        "</table>",
    ]
    out.extend(f'<p class="notice">{html.escape(str(notice))}</p>' for notice in notices)
    if review.provenance:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in review.provenance)
        out.append(f'<div class="notice">Provenance changed:<ul>{items}</ul></div>')
    return "\n".join(out)


_METRICS: list[tuple[str, str, str]] = [
    ("pass rate", "pass_rate", "{:.0%}"),
    ("p50", "p50_s", "{:.2f}s"),
    ("p95", "p95_s", "{:.2f}s"),
    ("TTFT p50", "ttft_p50_s", "{:.2f}s"),
    ("prompt tokens", "prompt_tokens", "{:d}"),
    ("reasoning tokens", "reasoning_tokens", "{:d}"),
    ("output tokens", "output_tokens", "{:d}"),
    ("est. cost", "cost_usd", "${:.4f}"),
]


def _metric_cell(old: RouteStats | None, new: RouteStats | None, name: str, fmt: str) -> str:
    before = getattr(old, name) if old else None
    after = getattr(new, name) if new else None
    text = f"{_fmt(before, fmt)} → {_fmt(after, fmt)}"
    if isinstance(before, int | float) and isinstance(after, int | float):
        delta = after - before
        if name == "pass_rate":
            text += f" ({delta * 100:+.0f} pp)"
        elif isinstance(delta, int):
            text += f" ({delta:+d})"
        elif fmt.endswith("}s"):
            # Latencies: show the change in the same unit as the values.
            text += f" ({delta:+.2f}s)"
        else:
            text += f" ({delta:+.4g})"
    return text


def _fmt(value: Any, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def _html_metrics(review: Review) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _, _ in _METRICS)
    rows = [f"<table><tr><th>route / mode</th>{head}</tr>"]
    for route, mode, old, new in review.route_rows:
        cells = "".join(
            f"<td>{html.escape(_metric_cell(old, new, name, fmt))}</td>"
            for _, name, fmt in _METRICS
        )
        rows.append(f"<tr><th>{html.escape(f'{route} / {mode}')}</th>{cells}</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _html_change(change: TestChange) -> str:
    title = html.escape(change.test_id)
    outcome = html.escape(f"{change.old_outcome} → {change.new_outcome}")
    out = [f'<section class="{change.category}"><h3>{title}</h3><p>outcome: {outcome}</p>']
    for index in range(max(len(change.old_calls), len(change.new_calls))):
        old = change.old_calls[index] if index < len(change.old_calls) else None
        new = change.new_calls[index] if index < len(change.new_calls) else None
        out.append(_html_call_pair(index, old, new))
    out.append("</section>")
    return "\n".join(out)


def _html_call_pair(index: int, old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    left, right = word_diff_html(_call_text(old), _call_text(new))
    rows = [
        f"<table><tr><th>call {index + 1}</th><th>old</th><th>new</th></tr>",
        f"<tr><th>route</th><td>{_provenance(old)}</td><td>{_provenance(new)}</td></tr>",
        f"<tr><th>output</th><td><pre>{left}</pre></td><td><pre>{right}</pre></td></tr>",
    ]
    images_old, images_new = _html_images(old), _html_images(new)
    if images_old or images_new:
        rows.append(f"<tr><th>images</th><td>{images_old}</td><td>{images_new}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _call_text(call: dict[str, Any] | None) -> str:
    if call is None:
        return ""
    lines = [call.get("content") or ""]
    for tool in call.get("tool_calls", []):
        lines.append(f"tool call {tool['name']}({tool['arguments']})")
    return "\n".join(lines)


def _provenance(call: dict[str, Any] | None) -> str:
    if call is None:
        return "(no call)"
    emulated = ", emulated" if call.get("emulated") else ""
    text = f"{call['route']} / {call['mode']} ({call['flavor']}, {call['model']}{emulated})"
    return html.escape(text)


def _html_images(call: dict[str, Any] | None) -> str:
    images = []
    for url in (call or {}).get("images", []):
        if url.startswith("data:image/"):
            images.append(f'<img alt="image sent" src="{html.escape(url, quote=True)}">')
        else:
            images.append(f"<p>{html.escape(url)}</p>")
    return "".join(images)


def render_markdown(review: Review, max_chars: int = MARKDOWN_MAX_CHARS) -> str:
    """Return the review as Markdown for a PR comment or `$GITHUB_STEP_SUMMARY`.

    The text is cut at whole lines to at most `max_chars` characters, with a
    note saying how many lines were left out.
    """
    lines = ["## pytest-kimi review", ""]
    notices = {r["header"].get("notice") for r in (review.old, review.new)} - {None}
    lines.extend(f"> {notice}" for notice in notices)
    lines.extend(f"- provenance changed: {line}" for line in review.provenance)
    lines.extend(["", _markdown_metrics(review), ""])
    for category in ("regression", "changed", "unchanged"):
        changes = review.by_category(category)
        lines.append(f"### {_CATEGORY_TITLES[category]} ({len(changes)})")
        lines.append("")
        for change in changes:
            lines.extend(_markdown_change(change, detailed=category != "unchanged"))
        lines.append("")
    return _truncate(lines, max_chars)


def _markdown_metrics(review: Review) -> str:
    head = " | ".join(label for label, _, _ in _METRICS)
    rows = [f"| route / mode | {head} |", "|---" * (len(_METRICS) + 1) + "|"]
    for route, mode, old, new in review.route_rows:
        cells = " | ".join(_metric_cell(old, new, name, fmt) for _, name, fmt in _METRICS)
        rows.append(f"| {_md_cell(f'{route} / {mode}')} | {cells} |")
    return "\n".join(rows)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_change(change: TestChange, detailed: bool) -> list[str]:
    lines = [f"- `{change.test_id}`: {change.old_outcome} → {change.new_outcome}"]
    if not detailed:
        return lines
    for old, new in zip(change.old_calls, change.new_calls, strict=False):
        diff = difflib.unified_diff(
            _call_text(old).splitlines(), _call_text(new).splitlines(), "old", "new", lineterm=""
        )
        body = [line.replace("```", "'''")[:500] for line in diff]
        if body:
            lines.extend(["", "  ```diff", *(f"  {line}" for line in body), "  ```", ""])
    return lines


def _truncate(lines: list[str], max_chars: int) -> str:
    text = "\n".join(lines) + "\n"
    if len(text) <= max_chars:
        return text
    kept: list[str] = []
    size = 0
    budget = max_chars - 200
    for line in lines:
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    dropped = len(lines) - len(kept)
    note = f"*Truncated: {dropped} more lines are in the HTML review.*"
    return "\n".join([*kept, "", note]) + "\n"


def compare_main(argv: Sequence[str] | None = None) -> int:
    """Run `pytest-kimi compare`; return 0, or 1 with `--fail-on-regression` and regressions.

    Without `--html` or `--markdown` the Markdown review is printed to stdout.
    """
    parser = argparse.ArgumentParser(
        prog="pytest-kimi compare", description="Compare two pytest-kimi run reports."
    )
    parser.add_argument("old", type=Path, help="report of the baseline run")
    parser.add_argument("new", type=Path, help="report of the candidate run")
    parser.add_argument("--html", type=Path, help="write the HTML review to this file")
    parser.add_argument("--markdown", type=Path, help="write the Markdown review to this file")
    parser.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when any test regressed"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        review = compare(args.old, args.new)
    except (OSError, ValueError) as exc:
        print(f"pytest-kimi compare: {exc}", file=sys.stderr)
        return 2
    markdown = render_markdown(review)
    try:
        if args.html:
            args.html.write_text(render_html(review), encoding="utf-8")
        if args.markdown:
            args.markdown.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        print(
            f"pytest-kimi compare: cannot write {exc.filename}: {exc.strerror}. "
            "Pick a writable path for --html and --markdown.",
            file=sys.stderr,
        )
        return 2
    if not args.html and not args.markdown:
        sys.stdout.write(markdown)
    regressions = len(review.by_category("regression"))
    return 1 if args.fail_on_regression and regressions else 0


main = compare_main
