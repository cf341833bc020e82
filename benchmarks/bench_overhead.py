"""Per-call overhead of `KimiClient.chat` against the raw openai client.

Both clients call the same loopback emulator with the same JSON body; the
calls are interleaved so drift in machine load hits both equally. Prints
the ratio of total times (goal: at most 1.05).

Reproduce: PYTHONPATH=. python benchmarks/bench_overhead.py [CALLS]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx2
import openai

from pytest_kimi.client.client import KimiClient
from pytest_kimi.config.routes import route_from_table
from pytest_kimi.emulator.server import EmulatorServer

PROMPT = "What is 17 * 23?"


def _raw_call(client: openai.OpenAI, body: dict[str, Any], extra: dict[str, Any]) -> None:
    client.chat.completions.create(model=body["model"], messages=body["messages"], extra_body=extra)


def main(calls: int = 500) -> None:
    """Run the interleaved comparison and print the ratios.

    Two baselines: the openai client with its default HTTP client, and the
    openai client on the same `httpx2.Client(transport=HTTPTransport())` that
    `KimiClient` builds, which isolates the plugin's own per-call work.
    """
    with EmulatorServer() as server:
        base_url = server.base_url("moonshot")
        route = route_from_table(
            "bench", {"flavor": "moonshot", "base_url": base_url}, source="bench"
        )
        kimi = KimiClient(route, "instant", health_checks=True)
        clients = {
            "raw openai (default HTTP client)": openai.OpenAI(
                api_key="not-set", base_url=base_url, max_retries=0
            ),
            "raw openai (same httpx2 client)": openai.OpenAI(
                api_key="not-set",
                base_url=base_url,
                max_retries=0,
                http_client=httpx2.Client(transport=httpx2.HTTPTransport()),
            ),
        }
        body = kimi.build_request(PROMPT)
        extra = {key: value for key, value in body.items() if key not in ("model", "messages")}
        extra.pop("stream", None)
        for _ in range(20):
            kimi.chat(PROMPT)
            for raw in clients.values():
                _raw_call(raw, body, extra)
        kimi_s = 0.0
        raw_s = dict.fromkeys(clients, 0.0)
        for _ in range(calls):
            started = time.perf_counter()
            kimi.chat(PROMPT)
            kimi_s += time.perf_counter() - started
            for name, raw in clients.items():
                started = time.perf_counter()
                _raw_call(raw, body, extra)
                raw_s[name] += time.perf_counter() - started
        kimi.close()
        for raw in clients.values():
            raw.close()
    print(f"calls per client: {calls}")
    print(f"kimi.chat: {kimi_s:.3f} s ({kimi_s / calls * 1000:.3f} ms/call)")
    for name, total in raw_s.items():
        print(f"{name}: {total:.3f} s ({total / calls * 1000:.3f} ms/call)")
        print(f"  ratio kimi/{name}: {kimi_s / total:.3f} (goal <= 1.05)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
