"""Fixtures for the custom module tests: a module runner and a local HTTP server."""

import http.server
import json
import socket
import threading
import time
import urllib.parse

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Run a module's main() with arguments; return (exit code, result dict)."""
    # Run as on a target: once any test imports a controller module (ansible.errors, ...),
    # ansible-core routes module warnings to the controller's display instead of the result.
    monkeypatch.setattr(module_utils_internal, "is_controller", False)

    def run(module, args, check_mode=False):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        with patch_module_args(args), pytest.raises(SystemExit) as exited:
            module.main()
        out = capsys.readouterr().out
        return exited.value.code, json.loads(out)

    return run


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes:

    /json                 200, a JSON document
    /text                 200, "hello release r-42"
    /status/<code>        that status, a short body
    /seq/<id>/<a,b,...>   the n-th request to this path answers the n-th status (last repeats)
    /slow/<seconds>       sleeps, then 200
    /big                  503 with a 5000-character body
    /redirect             302 to /json
    /headers              200, the request headers as JSON
    /echo (POST)          200, the request body
    """

    server_version = "dockhand-test"
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):  # keep pytest output clean
        pass

    def _send(self, status, body, content_type="text/plain", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        parts = path.strip("/").split("/")
        head = parts[0]
        if head == "json":
            document = {"status": "ok", "count": 200, "ready": True,
                        "checks": {"db": [{"state": "up"}]}}
            self._send(200, json.dumps(document), "application/json")
        elif head == "text":
            self._send(200, "hello release r-42")
        elif head == "status":
            self._send(int(parts[1]), f"status {parts[1]}")
        elif head == "seq":
            with self.server.lock:
                count = self.server.hits.get(path, 0)
                self.server.hits[path] = count + 1
            statuses = [int(code) for code in parts[2].split(",")]
            status = statuses[min(count, len(statuses) - 1)]
            self._send(status, f"request {count + 1}: {status}")
        elif head == "slow":
            time.sleep(float(parts[1]))
            self._send(200, "slow but fine")
        elif head == "big":
            self._send(503, "x" * 5000)
        elif head == "redirect":
            self._send(302, "", extra={"Location": "/json"})
        elif head == "headers":
            self._send(200, json.dumps(dict(self.headers.items())), "application/json")
        else:
            self._send(404, "not found")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/echo":
            self._send(200, body)
        else:
            self._send(404, "not found")


@pytest.fixture(scope="session")
def http_server():
    """A threaded HTTP server on 127.0.0.1 and an ephemeral port; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.hits = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return port
