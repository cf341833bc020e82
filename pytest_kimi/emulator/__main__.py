"""Run the emulator with `python -m pytest_kimi.emulator`."""

from __future__ import annotations

import sys

from pytest_kimi.cli import main

raise SystemExit(main(["emulator", *sys.argv[1:]]))
