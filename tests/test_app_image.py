"""The app image: builds offline from the local base, runs hardened, answers, is healthy.

Needs a Docker engine and the local base image (`make images wheels`); `make pytest` and
`make test` prepare both.
"""

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
BASE_IMAGE = "dockhand/python-base:trixie"


def _docker(*args, check=True):
    return subprocess.run(
        ["docker", *args], check=check, capture_output=True, text=True, timeout=600
    )


def _docker_ready():
    return shutil.which("docker") and _docker("info", check=False).returncode == 0


pytestmark = pytest.mark.skipif(not _docker_ready(), reason="no Docker engine answers")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def image():
    if _docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"{BASE_IMAGE} is missing: run `make images`")
    if not list((APP / "wheels").glob("*.whl")):
        pytest.fail("app/wheels holds no wheels: run `make wheels`")
    tag = f"dockhand-app:pytest-{uuid.uuid4().hex[:8]}"
    build = _docker(
        "build", "--network", "none", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
        "--tag", tag, str(APP), check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    yield tag
    _docker("image", "rm", "--force", tag, check=False)


@pytest.fixture(scope="module")
def container(image):
    port = _free_port()
    name = f"dockhand-pytest-{uuid.uuid4().hex[:8]}"
    _docker(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
        "--memory", "256m", "--pids-limit", "128",
        # APP_WORKERS empty, as Compose passes it when unset.
        "--env", "APP_WORKERS=", "--env", "APP_RELEASE_ID=r-image",
        "--publish", f"127.0.0.1:{port}:8000", image,
    )
    try:
        deadline = time.monotonic() + 60
        status = ""
        while time.monotonic() < deadline:
            status = _docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            if status == "healthy":
                break
            time.sleep(1)
        assert status == "healthy", _docker("logs", name, check=False).stderr[-2000:]
        yield name, f"http://127.0.0.1:{port}"
    finally:
        _docker("rm", "--force", name, check=False)


def test_page_keeps_both_original_lines(container):
    _, url = container
    status, body = _get(url + "/")
    assert status == 200
    assert "FATEC AMERICANA" in body
    assert "Essa é uma simples aplicação rodando em Docker" in body
    assert '<dd id="release">r-image</dd>' in body


def test_healthz_and_404(container):
    _, url = container
    status, body = _get(url + "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    assert _get(url + "/missing")[0] == 404


def test_served_by_gunicorn_not_the_dev_server(container):
    name, url = container
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
        assert response.headers["Server"].startswith("gunicorn")
    top = _docker("top", name).stdout
    assert "gunicorn" in top
    assert "flask run" not in top


def test_image_has_healthcheck_and_non_root_user(image):
    config = json.loads(_docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["Healthcheck"]["Test"][0] == "CMD"
    user = config["User"].split(":")[0]
    assert user and user not in ("root", "0")


def test_final_image_has_no_pip_or_compilers(image):
    probe = _docker(
        "run", "--rm", "--entrypoint", "sh", image, "-c",
        "command -v pip pip3 gcc cc; ls /root/.cache 2>/dev/null; true",
    )
    assert probe.stdout.strip() == ""
