"""Record and replay of model calls at the httpx2 transport layer.

Cassettes are JSON files (one per test, route and mode) under `cassettes/` next
to the test file; media goes to `cassettes/_media/<sha256>.<ext>`. See
`pytest_kimi.recording.plugin` for how emulator routes are treated and
`pytest_kimi.recording.options` for the record-mode precedence.
"""

from __future__ import annotations

from pytest_kimi.recording.cassette import Cassette, Interaction
from pytest_kimi.recording.errors import (
    CassetteCorruptError,
    CassetteMissError,
    CassetteWriteError,
    RecordingError,
)
from pytest_kimi.recording.options import (
    RECORD_MODES,
    RecordSettings,
    add_recording_options,
    load_record_settings,
)
from pytest_kimi.recording.plugin import (
    CassetteWrapper,
    RecordingPlugin,
    cassette_name,
    register_recording,
    replay_base_url,
)
from pytest_kimi.recording.scan import register_scan_path
from pytest_kimi.recording.secrets import REDACTED, Redactor
from pytest_kimi.recording.session import CassetteSession, SessionContext
from pytest_kimi.recording.traces import TRACE_POLICIES
from pytest_kimi.recording.transport import CassetteTransport, replay_response

__all__ = [
    "REDACTED",
    "RECORD_MODES",
    "TRACE_POLICIES",
    "Cassette",
    "CassetteCorruptError",
    "CassetteMissError",
    "CassetteSession",
    "CassetteTransport",
    "CassetteWrapper",
    "CassetteWriteError",
    "Interaction",
    "RecordSettings",
    "RecordingError",
    "RecordingPlugin",
    "Redactor",
    "SessionContext",
    "add_recording_options",
    "cassette_name",
    "load_record_settings",
    "register_recording",
    "register_scan_path",
    "replay_base_url",
    "replay_response",
]
