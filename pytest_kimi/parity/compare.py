"""Run one request on several routes and score each route against a reference.

Typical use: the official API (`moonshot`) is the reference and a
self-hosted INT4 deployment (`vllm-int4`) is compared with it. For every
route the comparison reports:

- `answer_agreement`: share of replies whose answer equals the reference
  route's majority answer (for the reference itself, its own stability);
- `tool_trigger_agreement`: share of replies that call a tool exactly when
  the reference's majority does;
- `tool_call_f1`: F1 of the (tool name, arguments) pairs of each reply
  against the reference's most common set of calls, averaged;
- `schema_accuracy`: share of tool calls whose arguments parse and satisfy
  the tool's `parameters` JSON schema (`None` when no tool was called);
- latency and time-to-first-token percentiles and output tokens per second.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]

from pytest_kimi.parity.sampling import AnswerKey, answer_of
from pytest_kimi.parity.stats import reply_timing_summary

if TYPE_CHECKING:
    from pytest_kimi.client.client import ContentInput, KimiClient
    from pytest_kimi.client.reply import Reply, ToolCall

__all__ = [
    "QUALITY_METRICS",
    "Comparison",
    "RouteMetrics",
    "assert_parity",
    "compare_routes",
    "schema_accuracy",
    "tool_call_f1",
]

# The metrics `assert_parity` checks by default; all are shares from 0 to 1.
QUALITY_METRICS = ("answer_agreement", "tool_trigger_agreement", "tool_call_f1", "schema_accuracy")

CallKey = tuple[str, str]


def _call_key(call: ToolCall) -> CallKey:
    try:
        arguments: Any = json.loads(call.arguments) if call.arguments else {}
    except json.JSONDecodeError:
        return (call.name, call.arguments)
    return (call.name, json.dumps(arguments, sort_keys=True, ensure_ascii=False))


def tool_call_f1(predicted: Iterable[ToolCall], expected: Iterable[ToolCall]) -> float:
    """Return the F1 of two sets of tool calls, matched on name and parsed arguments.

    Two empty sets score 1.0 (both routes agree that no tool is needed).
    """
    left = Counter(_call_key(call) for call in predicted)
    right = Counter(_call_key(call) for call in expected)
    if not left and not right:
        return 1.0
    matched = sum((left & right).values())
    if matched == 0:
        return 0.0
    precision = matched / sum(left.values())
    recall = matched / sum(right.values())
    return 2 * precision * recall / (precision + recall)


def _schemas(tools: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for tool in tools or ():
        function = tool.get("function")
        if isinstance(function, Mapping) and "name" in function:
            schemas[str(function["name"])] = function.get("parameters") or {"type": "object"}
    return schemas


def schema_accuracy(
    replies: Iterable[Reply], tools: Sequence[Mapping[str, Any]] | None
) -> float | None:
    """Return the share of tool calls whose arguments satisfy their tool's schema.

    A call to a tool that was not offered, or with arguments that are not
    JSON, counts as invalid. Returns `None` when no reply called a tool.
    """
    schemas = _schemas(tools)
    valid = total = 0
    for reply in replies:
        for call in reply.tool_calls:
            total += 1
            schema = schemas.get(call.name)
            if schema is None:
                continue
            try:
                jsonschema.validate(call.parsed_arguments(), schema)
            except (ValueError, jsonschema.ValidationError):
                continue
            valid += 1
    return valid / total if total else None


@dataclass
class RouteMetrics:
    """The scores of one route in a comparison; see the module docstring."""

    route: str
    answer_agreement: float
    tool_trigger_agreement: float
    tool_call_f1: float
    schema_accuracy: float | None
    timings: dict[str, Any]
    answers: list[Any] = field(default_factory=list)

    def value(self, metric: str) -> float | None:
        """Return the value of `metric` by name."""
        value = getattr(self, metric)
        return None if value is None else float(value)

    def as_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-ready dict."""
        return {
            "route": self.route,
            "answer_agreement": self.answer_agreement,
            "tool_trigger_agreement": self.tool_trigger_agreement,
            "tool_call_f1": self.tool_call_f1,
            "schema_accuracy": self.schema_accuracy,
            "timings": self.timings,
            "answers": [answer if _is_json(answer) else repr(answer) for answer in self.answers],
        }


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


@dataclass
class Comparison:
    """The outcome of `compare_routes`: replies and metrics per route."""

    reference: str
    replies: dict[str, list[Reply]]
    metrics: dict[str, RouteMetrics]

    def table(self) -> str:
        """Return a fixed-width text table of the metrics, one row per route."""
        header = f"{'route':<20} {'answer':>7} {'trigger':>8} {'tool F1':>8} {'schema':>7} "
        header += f"{'p50 s':>8} {'tok/s':>8}"
        rows = [header]
        for name, metrics in self.metrics.items():
            latency = metrics.timings["latency_s"]["p50"]
            rate = metrics.timings["output_tokens_per_s"]
            schema = "-" if metrics.schema_accuracy is None else f"{metrics.schema_accuracy:.2f}"
            marker = " (reference)" if name == self.reference else ""
            rows.append(
                f"{name:<20} {metrics.answer_agreement:>7.2f} "
                f"{metrics.tool_trigger_agreement:>8.2f} {metrics.tool_call_f1:>8.2f} "
                f"{schema:>7} {_fmt(latency):>8} {_fmt(rate['mean'] if rate else None):>8}"
                f"{marker}"
            )
        return "\n".join(rows)

    def as_dict(self) -> dict[str, Any]:
        """Return the comparison as a JSON-ready dict (without the raw replies)."""
        return {
            "reference": self.reference,
            "routes": {name: metrics.as_dict() for name, metrics in self.metrics.items()},
        }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _most_common(values: Sequence[Any]) -> Any:
    keys = [json.dumps(value, sort_keys=True, default=str) for value in values]
    winner = Counter(keys).most_common(1)[0][0]
    return values[keys.index(winner)]


def _score(
    name: str,
    replies: list[Reply],
    reference: list[Reply],
    answer: AnswerKey,
    tools: Sequence[Mapping[str, Any]] | None,
) -> RouteMetrics:
    reference_answer = _most_common([answer_of(reply, answer) for reply in reference])
    reference_trigger = _most_common([bool(reply.tool_calls) for reply in reference])
    call_sets = [sorted(_call_key(call) for call in reply.tool_calls) for reply in reference]
    expected_keys = _most_common(call_sets)
    expected = next(
        reply.tool_calls
        for reply in reference
        if sorted(_call_key(call) for call in reply.tool_calls) == expected_keys
    )
    answers = [answer_of(reply, answer) for reply in replies]
    count = len(replies)
    return RouteMetrics(
        route=name,
        answer_agreement=sum(a == reference_answer for a in answers) / count,
        tool_trigger_agreement=sum(bool(r.tool_calls) == reference_trigger for r in replies)
        / count,
        tool_call_f1=sum(tool_call_f1(r.tool_calls, expected) for r in replies) / count,
        schema_accuracy=schema_accuracy(replies, tools),
        timings=reply_timing_summary(replies),
        answers=answers,
    )


def compare_routes(
    clients: Mapping[str, KimiClient],
    prompt: ContentInput,
    *,
    reference: str,
    tools: Sequence[Mapping[str, Any]] | None = None,
    repeats: int = 1,
    answer: AnswerKey = None,
    **chat_fields: Any,
) -> Comparison:
    """Send the same request to every route and score each against `reference`.

    Args:
        clients: one client per route name; the routes run concurrently.
        prompt: the prompt, as `KimiClient.chat` takes it.
        reference: the route name the others are scored against.
        tools: OpenAI-style tool definitions, sent with the request and used
            for the schema check.
        repeats: requests per route; agreement rates are shares of these.
        answer: how to read each answer (see `pytest_kimi.parity.sampling`).
        **chat_fields: passed to `KimiClient.chat`.

    Raises:
        ValueError: `reference` is not among the clients, or `repeats` < 1.
    """
    if reference not in clients:
        raise ValueError(
            f"reference route {reference!r} is not among the compared routes "
            f"({', '.join(clients)}); add it to routes or pick one of them."
        )
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    if tools is not None:
        chat_fields["tools"] = list(tools)

    def run(client: KimiClient) -> list[Reply]:
        return [client.chat(prompt, **chat_fields) for _ in range(repeats)]

    with ThreadPoolExecutor(max_workers=len(clients), thread_name_prefix="kimi-compare") as pool:
        futures = {name: pool.submit(run, client) for name, client in clients.items()}
        replies = {name: future.result() for name, future in futures.items()}
    metrics = {
        name: _score(name, route_replies, replies[reference], answer, tools)
        for name, route_replies in replies.items()
    }
    return Comparison(reference=reference, replies=replies, metrics=metrics)


def assert_parity(
    comparison: Comparison,
    margin: float | Mapping[str, float] = 0.1,
    *,
    metrics: Sequence[str] = QUALITY_METRICS,
) -> None:
    """Fail when a route scores below the reference by more than `margin`.

    Args:
        comparison: the result of `compare_routes` or the `kimi_compare` fixture.
        margin: allowed shortfall, one number for every metric or a dict by
            metric name (metrics missing from the dict get 0).
        metrics: the metrics to check; `None` values (no tool calls) are skipped.
    """
    __tracebackhide__ = True
    reference = comparison.metrics[comparison.reference]
    problems: list[str] = []
    for name, route_metrics in comparison.metrics.items():
        if name == comparison.reference:
            continue
        for metric in metrics:
            allowed = margin.get(metric, 0.0) if isinstance(margin, Mapping) else margin
            value, expected = route_metrics.value(metric), reference.value(metric)
            if expected is None:
                continue
            if value is None:
                value = 0.0
            if value < expected - allowed - 1e-12:
                problems.append(
                    f"route {name!r}: {metric} {value:.3f} is below the reference route "
                    f"{comparison.reference!r} ({expected:.3f}) by more than the margin "
                    f"{allowed:.3f}"
                )
    if problems:
        raise AssertionError(
            "route parity failed:\n  " + "\n  ".join(problems) + "\n" + comparison.table()
        )
