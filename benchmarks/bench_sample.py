"""Wall time of `sample(n=8)` against one call, on a route with a fixed 200 ms latency.

The emulator profile waits `latency_s=0.2` before every response, so eight
sequential calls would take about 8x one call; concurrent sampling should
stay near 1x (goal: at most 1.5).

Reproduce: PYTHONPATH=. python benchmarks/bench_sample.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from pytest_kimi.client.client import KimiClient
from pytest_kimi.config.routes import route_from_table
from pytest_kimi.emulator.profile import Profile
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.parity.sampling import sample

PROMPT = "What is 17 * 23?"


def main(n: int = 8, rounds: int = 5) -> None:
    """Measure one call and `sample(n)` alternately and print the ratio of medians."""
    with EmulatorServer() as server:
        base_url = server.add_profile("slow", Profile(latency_s=0.2))
        route = route_from_table(
            "slow", {"flavor": "moonshot", "base_url": base_url}, source="bench"
        )
        client = KimiClient(route, "instant")
        client.chat(PROMPT)
        single: list[float] = []
        sampled: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            client.chat(PROMPT)
            single.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = sample(client, PROMPT, n=n)
            sampled.append(time.perf_counter() - started)
            assert result.agreement == 1.0
        client.close()
    one, many = statistics.median(single), statistics.median(sampled)
    print(f"one call (median of {rounds}): {one:.3f} s")
    print(f"sample(n={n}) (median of {rounds}): {many:.3f} s")
    print(f"ratio sample/one call: {many / one:.3f} (goal <= 1.5)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
