"""Migration tests: the same conversation over the chat-completions and Messages APIs.

A team moving a K2.6 client from the OpenAI protocol to Moonshot's
Anthropic-compatible route (or back) runs one conversation through both and
checks that tool calls and answers agree:

    openai_client, anthropic_client = protocol_clients(request)
    result = compare_protocols(openai_client, anthropic_client, spec)
    assert_migration_equivalent(result)
"""

from __future__ import annotations

from pytest_kimi.migration.clients import protocol_client, protocol_clients
from pytest_kimi.migration.compare import (
    ANSWER_POLICIES,
    AnswerPolicy,
    ConversationSpec,
    Difference,
    MigrationResult,
    ProtocolRun,
    Step,
    assert_migration_equivalent,
    compare_protocols,
    compare_runs,
    run_conversation,
)

__all__ = [
    "ANSWER_POLICIES",
    "AnswerPolicy",
    "ConversationSpec",
    "Difference",
    "MigrationResult",
    "ProtocolRun",
    "Step",
    "assert_migration_equivalent",
    "compare_protocols",
    "compare_runs",
    "protocol_client",
    "protocol_clients",
    "run_conversation",
]
