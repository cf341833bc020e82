"""Per-route request limits and a token budget shared by every xdist worker.

The state lives in JSON files in one run directory that the controller
creates and hands to the workers (`workerinput["kimi_run_dir"]`). Each
read-modify-write holds an exclusive `fcntl.flock` on a lock file next to
the state, so the limits hold for the whole run, not per worker. Linux and
macOS only (`fcntl`).

- `SharedLimiter.acquire(route)` blocks until the route has a free
  concurrency slot and fewer than `requests_per_minute` requests started in
  the last 60 seconds. `release` frees the slot. Slots are keyed by process
  id, and slots of processes that no longer exist are dropped, so a crashed
  worker does not hold a slot for the rest of the run.
- `TokenBudget.add(tokens)` adds to the run's total; `exceeded()` says
  whether the total passed `max_tokens`. The budget is checked before each
  request, so the overshoot is at most the requests already in flight.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from pytest_kimi.errors import KimiConfigError

__all__ = [
    "BudgetExceededError",
    "LimitedTransport",
    "SharedLimiter",
    "TokenBudget",
    "budget_from_settings",
]

_POLL_S = 0.01
_WINDOW_S = 60.0


class BudgetExceededError(KimiConfigError):
    """The run's token budget is used up; no further requests are sent."""


@contextlib.contextmanager
def _locked_state(path: Path) -> Iterator[dict[str, Any]]:
    lock_path = path.with_suffix(".lock")
    with lock_path.open("a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            state: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
            yield state
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(state))
            temporary.replace(path)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _safe_name(route: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", route)


@dataclass(frozen=True)
class RouteLimits:
    """The limits of one route: concurrent requests and requests per minute."""

    max_concurrency: int
    requests_per_minute: int | None = None


class SharedLimiter:
    """Limits shared through files in `run_dir`; see the module docstring."""

    def __init__(self, run_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock

    def _path(self, route: str) -> Path:
        return self.run_dir / f"limits-{_safe_name(route)}.json"

    def _try_acquire(self, route: str, limits: RouteLimits) -> float:
        now = self._clock()
        with _locked_state(self._path(route)) as state:
            slots = [slot for slot in state.get("slots", []) if _alive(int(slot[0]))]
            starts = [t for t in state.get("starts", []) if now - float(t) < _WINDOW_S]
            wait = 0.0
            if len(slots) >= limits.max_concurrency:
                wait = _POLL_S
            elif limits.requests_per_minute and len(starts) >= limits.requests_per_minute:
                wait = max(_POLL_S, _WINDOW_S - (now - min(starts)))
            else:
                slots.append([os.getpid(), now])
                starts.append(now)
                state["peak"] = max(int(state.get("peak", 0)), len(slots))
                state["total"] = int(state.get("total", 0)) + 1
            state["slots"], state["starts"] = slots, starts
        return wait

    def acquire(self, route: str, limits: RouteLimits) -> None:
        """Block until `route` has a free slot under `limits`, then take it."""
        while True:
            wait = self._try_acquire(route, limits)
            if wait == 0.0:
                return
            time.sleep(min(wait, 1.0))

    def release(self, route: str) -> None:
        """Free one slot of this process on `route`."""
        pid = os.getpid()
        with _locked_state(self._path(route)) as state:
            slots = state.get("slots", [])
            for index, slot in enumerate(slots):
                if int(slot[0]) == pid:
                    del slots[index]
                    break
            state["slots"] = slots

    def stats(self, route: str) -> dict[str, int]:
        """Return the `peak` concurrency and `total` requests seen on `route`."""
        with _locked_state(self._path(route)) as state:
            return {"peak": int(state.get("peak", 0)), "total": int(state.get("total", 0))}


class TokenBudget:
    """A token (and optional cost) budget for the whole run, shared through a file."""

    def __init__(
        self,
        run_dir: Path,
        *,
        max_tokens: int | None = None,
        max_cost_usd: float | None = None,
        prompt_usd_per_mtok: float = 0.0,
        completion_usd_per_mtok: float = 0.0,
    ) -> None:
        self.path = Path(run_dir) / "budget.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_tokens = max_tokens
        self.max_cost_usd = max_cost_usd
        self.prompt_usd_per_mtok = prompt_usd_per_mtok
        self.completion_usd_per_mtok = completion_usd_per_mtok

    def add(self, prompt_tokens: int, completion_tokens: int) -> dict[str, float]:
        """Add one reply's usage to the run's totals and return the new totals."""
        cost = (
            prompt_tokens * self.prompt_usd_per_mtok
            + completion_tokens * self.completion_usd_per_mtok
        ) / 1_000_000
        with _locked_state(self.path) as state:
            state["tokens"] = int(state.get("tokens", 0)) + prompt_tokens + completion_tokens
            state["cost_usd"] = float(state.get("cost_usd", 0.0)) + cost
            return {"tokens": state["tokens"], "cost_usd": state["cost_usd"]}

    def totals(self) -> dict[str, float]:
        """Return the tokens and cost spent so far in this run."""
        with _locked_state(self.path) as state:
            return {
                "tokens": int(state.get("tokens", 0)),
                "cost_usd": float(state.get("cost_usd", 0.0)),
            }

    def exceeded(self) -> str | None:
        """Return a message when the budget is used up, else `None`."""
        totals = self.totals()
        if self.max_tokens is not None and totals["tokens"] >= self.max_tokens:
            return (
                f"pytest-kimi token budget exceeded: {int(totals['tokens'])} tokens used, "
                f"max_tokens is {self.max_tokens} ([tool.pytest_kimi.budget]). Raise "
                "max_tokens or run fewer tests."
            )
        if self.max_cost_usd is not None and totals["cost_usd"] >= self.max_cost_usd:
            return (
                f"pytest-kimi cost budget exceeded: ${totals['cost_usd']:.4f} spent, "
                f"max_cost_usd is {self.max_cost_usd} ([tool.pytest_kimi.budget]). Raise "
                "max_cost_usd or run fewer tests."
            )
        return None


_BUDGET_KEYS = {"max_tokens", "max_cost_usd", "prompt_usd_per_mtok", "completion_usd_per_mtok"}


def budget_from_settings(table: Mapping[str, Any] | None, run_dir: Path) -> TokenBudget | None:
    """Build the budget from `[tool.pytest_kimi.budget]`, or `None` when it sets no limit.

    Raises:
        KimiConfigError: an unknown key or a value that is not a positive number.
    """
    if not table:
        return None
    unknown = sorted(set(table) - _BUDGET_KEYS)
    if unknown:
        raise KimiConfigError(
            f"unknown key(s) {', '.join(unknown)} in [tool.pytest_kimi.budget]: the keys are "
            f"{', '.join(sorted(_BUDGET_KEYS))}."
        )
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise KimiConfigError(
                f"invalid tool.pytest_kimi.budget.{key} = {value!r}: expected a number >= 0."
            )
    max_tokens = table.get("max_tokens")
    max_cost = table.get("max_cost_usd")
    if max_tokens is None and max_cost is None:
        return None
    return TokenBudget(
        run_dir,
        max_tokens=int(max_tokens) if max_tokens is not None else None,
        max_cost_usd=float(max_cost) if max_cost is not None else None,
        prompt_usd_per_mtok=float(table.get("prompt_usd_per_mtok", 0.0)),
        completion_usd_per_mtok=float(table.get("completion_usd_per_mtok", 0.0)),
    )


class _ReleasingStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self._release is not None:
                release, self._release = self._release, None
                release()


class LimitedTransport(httpx2.BaseTransport):
    """A transport that takes a shared slot per request and checks the budget first.

    The slot is held until the response body is closed, so a streamed reply
    counts against `max_concurrency` for its whole length.
    """

    def __init__(
        self,
        inner: httpx2.BaseTransport,
        *,
        route: str,
        limiter: SharedLimiter,
        limits: RouteLimits,
        budget: TokenBudget | None = None,
    ) -> None:
        self._inner = inner
        self._route = route
        self._limiter = limiter
        self._limits = limits
        self._budget = budget

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Check the budget, take a slot, send, and free the slot when the body closes."""
        if self._budget is not None:
            message = self._budget.exceeded()
            if message is not None:
                raise BudgetExceededError(message)
        self._limiter.acquire(self._route, self._limits)
        try:
            response = self._inner.handle_request(request)
        except BaseException:
            self._limiter.release(self._route)
            raise
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, lambda: self._limiter.release(self._route)),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
