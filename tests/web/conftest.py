from __future__ import annotations

import pytest
from web_fakes import fake_engine

from webui import create_app


@pytest.fixture
def engine():
    return fake_engine()


@pytest.fixture
def app(engine):
    return create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=engine)


@pytest.fixture
def client(app):
    return app.test_client()
