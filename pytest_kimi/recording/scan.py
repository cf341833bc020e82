"""The end-of-session secret scan over cassettes, snapshots and reports.

The scan covers every file under a folder named `cassettes` or `__snapshots__`
below the paths given to pytest (or the rootdir). It also covers the configured
cassette folder, the `scan` list of `[tool.pytest_kimi.record]`, the JUnit XML
report, the `--kimi-report` JSON report, and any path registered with
`register_scan_path`.
Each file is searched for the values of the configured API key variables and
for provider key tokens such as `sk-...`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_kimi.recording.secrets import SecretLeak, find_leaks, joined_stream_texts

__all__ = ["FileLeak", "register_scan_path", "scan_files", "scan_roots"]

SCANNED_DIRNAMES = frozenset({"cassettes", "__snapshots__"})
_SKIPPED_DIRNAMES = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "site-packages",
    }
)
# Larger files are not cassettes, snapshots or reports; reading them would only slow the run.
MAX_SCANNED_BYTES = 50 * 1024 * 1024

EXTRA_SCAN_PATHS = pytest.StashKey[list[Path]]()


def register_scan_path(config: pytest.Config, path: Path) -> None:
    """Add a file or folder (a report, for example) to the end-of-session secret scan."""
    config.stash.setdefault(EXTRA_SCAN_PATHS, []).append(path)


@dataclass(frozen=True)
class FileLeak:
    """A secret found in a file."""

    path: Path
    leak: SecretLeak

    def __str__(self) -> str:
        return f"{self.path}:{self.leak.line}: {self.leak.what}"


def _argument_paths(config: pytest.Config) -> list[Path]:
    base = config.invocation_params.dir
    paths = []
    for argument in config.args:
        path = base / argument.split("::", 1)[0]
        if path.exists():
            paths.append(path if path.is_dir() else path.parent)
    return paths or [config.rootpath]


def _report_paths(config: pytest.Config) -> list[Path]:
    """Return the `--kimi-report` file (or the `kimi_report` ini path) when one is set."""
    option = getattr(config.option, "kimi_report", None)
    if option:
        return [config.invocation_params.dir / option]
    try:
        ini = config.getini("kimi_report")
    except ValueError:
        return []
    return [config.rootpath / str(ini)] if ini else []


def scan_roots(config: pytest.Config, explicit: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Return (folders searched for cassette and snapshot folders, paths scanned whole)."""
    whole = [*explicit, *config.stash.get(EXTRA_SCAN_PATHS, [])]
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath:
        whole.append(Path(xmlpath))
    whole.extend(_report_paths(config))
    return _argument_paths(config), whole


def _walk(root: Path, *, whole: bool) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in _SKIPPED_DIRNAMES)
        inside = whole or any(part in SCANNED_DIRNAMES for part in Path(folder).parts)
        if inside:
            for name in sorted(filenames):
                yield Path(folder) / name


def scan_files(
    searched: Iterable[Path], whole: Iterable[Path], values: Mapping[str, str]
) -> list[FileLeak]:
    """Scan the files under `searched` (cassette and snapshot folders) and `whole` (all)."""
    seen: set[Path] = set()
    leaks: list[FileLeak] = []
    candidates = [(root, False) for root in searched] + [(root, True) for root in whole]
    for root, is_whole in candidates:
        if not root.exists():
            continue
        for path in _walk(root, whole=is_whole):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            try:
                if path.stat().st_size > MAX_SCANNED_BYTES:
                    continue
                # latin-1 maps every byte to one character, so binary files scan too.
                text = path.read_bytes().decode("latin-1")
            except OSError:
                continue
            leaks.extend(FileLeak(path, leak) for leak in find_leaks(text, values))
            leaks.extend(FileLeak(path, leak) for leak in _split_leaks(path, text, values))
    return leaks


def _split_leaks(path: Path, text: str, values: Mapping[str, str]) -> list[SecretLeak]:
    """Find keys split across the chunks of a recorded stream in a cassette."""
    if path.suffix != ".json" or '"events"' not in text:
        return []
    try:
        document = json.loads(text)
    except ValueError:
        return []
    interactions = document.get("interactions") if isinstance(document, dict) else None
    leaks: list[SecretLeak] = []
    for interaction in interactions if isinstance(interactions, list) else []:
        response = interaction.get("response") if isinstance(interaction, dict) else None
        events = response.get("events") if isinstance(response, dict) else None
        if not isinstance(events, list):
            continue
        for joined in joined_stream_texts(events):
            for leak in find_leaks(joined, values):
                leaks.append(SecretLeak(f"{leak.what}, split across stream chunks", 0))
    return leaks
