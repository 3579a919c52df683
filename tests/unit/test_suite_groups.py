"""The suite's own set-up: pytest-xdist keeps grouped tests on one worker.

tests/conftest.py groups the tests that share an expensive fixture (the cohort, a browser
module's live world, any module-scoped fixture). Both ways of losing the groups happened
silently, and each expensive fixture was then built on every worker:
- pytest 9.2 keeps a test's id where pytest-xdist 3.8 does not write the group (pyproject.toml);
- pytest-xdist's own hook ran before the conftest's and found no group (now `tryfirst`).
"""

from __future__ import annotations

import pytest


def _under_loadgroup(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under pytest-xdist's --dist loadgroup (make test)")


@pytest.fixture(scope="module")
def shared() -> str:
    """A module fixture: tests/conftest.py keeps its module's tests on one worker."""
    return "built once"


@pytest.mark.xdist_group("suite-check")
def test_a_marked_group_reaches_xdist(request: pytest.FixtureRequest) -> None:
    _under_loadgroup(request)
    assert request.node.nodeid.endswith("@suite-check"), (
        "pytest-xdist did not take the test groups: pytest and pytest-xdist disagree on test "
        "ids (see the pin in pyproject.toml)"
    )


def test_a_group_made_by_the_conftest_reaches_xdist(
    request: pytest.FixtureRequest, shared: str
) -> None:
    _under_loadgroup(request)
    assert request.node.nodeid.endswith("@tests/unit/test_suite_groups.py"), (
        "pytest-xdist read the groups before tests/conftest.py made them (its hook must run "
        "first)"
    )
