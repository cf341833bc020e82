from __future__ import annotations

import pytest


def test_failure_points_at_user_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_kimi.grounding import Corpus, assert_citations_resolve

        def test_answer():
            corpus = Corpus.from_texts(["a", "b", "c"])
            assert_citations_resolve("Revenue grew [1][7].", corpus)
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>       assert_citations_resolve("Revenue grew [1][7].", corpus)',
            "E       pytest_kimi.grounding.errors.CitationError: citations do not resolve*",
            "E         - citation 7 has no source (3 sources)*",
        ]
    )
    assert "def assert_citations_resolve" not in result.stdout.str()
