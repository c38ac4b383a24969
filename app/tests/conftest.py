import pytest
from dockhand_app import create_app


@pytest.fixture
def app():
    return create_app({"TESTING": True, "RELEASE_ID": "r-test"})


@pytest.fixture
def client(app):
    return app.test_client()
