"""The app through Flask's test client."""

import importlib.util
import socket
from pathlib import Path

from dockhand_app import config_from_env, create_app

APP_DIR = Path(__file__).resolve().parents[1]


def test_index_keeps_the_original_text(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "FATEC AMERICANA" in page
    assert "Essa é uma simples aplicação rodando em Docker" in page


def test_index_shows_hostname_and_release(client):
    page = client.get("/").get_data(as_text=True)
    assert f'<dd id="hostname">{socket.gethostname()}</dd>' in page
    assert '<dd id="release">r-test</dd>' in page


def test_healthz_is_json_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "release": "r-test"}


def test_unknown_path_is_404(client):
    assert client.get("/nope").status_code == 404


def test_only_get_is_allowed(client):
    assert client.post("/").status_code == 405


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_release_comes_from_environment(monkeypatch):
    monkeypatch.setenv("APP_RELEASE_ID", "abc123")
    client = create_app().test_client()
    assert client.get("/healthz").get_json()["release"] == "abc123"


def test_config_defaults_without_environment():
    assert config_from_env({}) == {"RELEASE_ID": "dev", "TITLE": "FATEC AMERICANA"}


def _load_gunicorn_conf(monkeypatch, **env):
    for key in ("APP_WORKERS", "APP_PORT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("gconf", APP_DIR / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_workers_from_env(monkeypatch):
    assert _load_gunicorn_conf(monkeypatch, APP_WORKERS="3").workers == 3


def test_gunicorn_empty_workers_falls_back_to_default(monkeypatch):
    # Compose passes an unset ${APP_WORKERS:-} as an empty string.
    conf = _load_gunicorn_conf(monkeypatch, APP_WORKERS="")
    assert conf.workers == conf.default_workers()


def test_gunicorn_default_workers_follow_cpus(monkeypatch):
    conf = _load_gunicorn_conf(monkeypatch)
    assert conf.default_workers(1) == 3
    assert conf.default_workers(2) == 5
    assert conf.default_workers(64) == 8
    assert conf.bind == "0.0.0.0:8000"
