"""Wall time of the example pack with `-n 2` against `-n 0`.

Runs `pytest examples -p no:cacheprovider -q` in a subprocess, alternating
`-n 0` and `-n 2`, and prints the ratio of median wall times. It runs
whatever tests are in `examples/` at the time.

Reproduce: python benchmarks/bench_xdist.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(workers: str) -> float:
    """Run the example pack once and return its wall time in seconds."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-p", "no:cacheprovider", "-q", "-n", workers],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    summary = completed.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"  -n {workers}: {elapsed:.2f} s, exit {completed.returncode}: {summary[0]}")
    return elapsed


def main(rounds: int = 3) -> None:
    """Alternate the two runs `rounds` times and print the ratio of medians."""
    serial: list[float] = []
    parallel: list[float] = []
    for _ in range(rounds):
        serial.append(run("0"))
        parallel.append(run("2"))
    one, two = statistics.median(serial), statistics.median(parallel)
    print(f"-n 0 median: {one:.2f} s; -n 2 median: {two:.2f} s; ratio n2/n0: {two / one:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
