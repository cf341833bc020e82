"""The example pack replays from its committed cassettes with no emulator running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loaded with -p: any attempt to start the embedded emulator fails the run.
BLOCKER = '''
from pytest_kimi.emulator.server import EmulatorServer

def _refuse(self):
    raise RuntimeError("the emulator must not start when every call replays")

EmulatorServer.start = _refuse
'''


def test_example_pack_passes_offline(tmp_path: Path) -> None:
    (tmp_path / "kimi_block_emulator.py").write_text(BLOCKER)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:cacheprovider",
         "-p", "kimi_block_emulator", "--kimi-record-mode", "none"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "failed" not in result.stdout.splitlines()[-1]


def test_blocker_really_blocks(tmp_path: Path) -> None:
    (tmp_path / "kimi_block_emulator.py").write_text(BLOCKER)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "examples/test_thinking_modes.py", "-q",
         "-p", "no:cacheprovider", "-p", "kimi_block_emulator"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "the emulator must not start" in result.stdout
