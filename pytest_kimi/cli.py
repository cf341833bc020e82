"""The `pytest-kimi` command: run the emulator standalone, or compare two run reports."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    from pytest_kimi.emulator.embedded import start_embedded_emulator
    from pytest_kimi.emulator.scripts import load_scripts
    from pytest_kimi.errors import KimiConfigError

    # Installed before the banner, so a SIGTERM sent as soon as it appears stops cleanly.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scripts = []
    try:
        for path in args.script or ():
            scripts.extend(load_scripts(path))
    except KimiConfigError as exc:
        print(f"pytest-kimi emulator: {exc}", file=sys.stderr)
        return 2
    try:
        server = start_embedded_emulator(scripts, port=args.port)
    except OSError as exc:
        print(
            f"pytest-kimi emulator: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}. "
            "Pick another --port.",
            file=sys.stderr,
        )
        return 2
    print(f"pytest-kimi emulator (emulator output, not Kimi K2.6 output) listening on {server.url}")
    print(f"  official  base URL: {server.url}/v1 (the moonshot profile)")
    for profile in ("moonshot", "vllm", "sglang", "openai"):
        print(f"  {profile:9} base URL: {server.base_url(profile)}")
    print(f"  anthropic Messages API: {server.url}/PROFILE/v1/messages for anthropic routes")
    sys.stdout.flush()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


def _compare(argv: Sequence[str]) -> int:
    from pytest_kimi.report.compare import compare_main

    return compare_main(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `pytest-kimi` command line."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["compare"]:
        return _compare(args_list[1:])
    parser = argparse.ArgumentParser(prog="pytest-kimi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("emulator", help="run the K2.6 contract emulator on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 = any)")
    serve.add_argument(
        "--script",
        action="append",
        metavar="FILE",
        help="JSON or TOML file of scripted replies (repeatable)",
    )
    commands.add_parser("compare", help="compare two --kimi-report files (see compare --help)")
    args = parser.parse_args(args_list)
    if args.command == "emulator":
        return _serve(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
