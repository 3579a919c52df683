"""The suite's own set-up: pytest-xdist keeps grouped tests on one worker.

tests/conftest.py groups the tests that share an expensive fixture (the cohort, a browser
module's live world). With pytest 9.2 and pytest-xdist 3.8 the groups were silently ignored (the
group went into a node id pytest no longer reads), so those fixtures were built on both workers.
"""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("suite-check")
def test_xdist_keeps_grouped_tests_together(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under pytest-xdist's --dist loadgroup (make test)")
    assert request.node.nodeid.endswith("@suite-check"), (
        "pytest-xdist did not take the test groups: pytest and pytest-xdist disagree on node "
        "ids (see the pin in pyproject.toml)"
    )
