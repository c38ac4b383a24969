"""The benchmark's own measuring parts, on this machine: the wrk script counts every answer
outside 2xx (wrk itself counts only >= 400), and the report computes its ratios from the
figures it is given. The benchmark itself is `make bench`: figures, not a gate."""

import argparse
import importlib.util
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("run_bench", HERE / "run_bench.py")
run_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_bench)


_STATUS = {"/ok": 200, "/redirect": 302, "/error": 503}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"FATEC AMERICANA"
        self.send_response(_STATUS.get(self.path, 404))
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/redirect":
            self.send_header("Location", "/ok")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


@needs_wrk
def test_wrk_counts_nothing_bad_on_200(server):
    figures = run_bench.wrk(f"{server}/ok", 4, 1)
    assert figures["requests"] > 0
    assert figures["non2xx"] == 0
    assert figures["socket_errors"] == 0
    assert 0 < figures["p50_us"] <= figures["p99_us"] <= figures["max_us"]
    assert figures["rps"] > 0


@needs_wrk
def test_wrk_counts_a_redirect_that_wrk_itself_does_not(server):
    figures = run_bench.wrk(f"{server}/redirect", 4, 1)
    assert figures["requests"] > 0
    assert figures["non2xx"] == figures["requests"]
    assert figures["status_ge_400"] == 0


@needs_wrk
def test_wrk_counts_server_errors(server):
    figures = run_bench.wrk(f"{server}/error", 4, 1)
    assert figures["non2xx"] == figures["requests"] == figures["status_ge_400"]


def _figures(rps, p50, p99, non2xx=0, errors=0):
    return {"requests": rps * 10, "rps": rps, "p50_us": p50, "p99_us": p99, "max_us": p99 * 2,
            "non2xx": non2xx, "socket_errors": errors, "connect": errors, "read": 0,
            "write": 0, "timeout": 0, "load_before": 1.0}


def test_report_computes_the_ratios_from_the_figures():
    load = {("ours", 64): _figures(900, 40_000, 90_000),
            ("original", 64): _figures(300, 200_000, 400_000),
            ("ours", 256): _figures(800, 150_000, 300_000),
            ("original", 256): _figures(200, 900_000, 2_000_000, errors=5),
            "load": _figures(850, 160_000, 320_000, non2xx=3)}
    results = {"machine": {"CPU cores (online)": "2"},
               "deploy": {"cold": 140.4, "noop": 80.2, "noop_changed": 0, "code": 90.0,
                          "releases": ("aaa", "bbb")},
               "fan": {1: 100.0, 4: 250.0}, "load": load}
    table, doc = run_bench.render(results, argparse.Namespace(duration=20, load_test=60, targets=4))
    assert "ratio 4 : 1 = **2.50**" in table
    assert "| 64 | **ratio ours / original** | **3.00x** | 0.20x | 0.23x | | |" in table
    assert "| 256 | **ratio ours / original** | **4.00x** |" in table
    assert "0 non-2xx for ours at 64 and 256 connections: **held**." in table
    # The load test had 3 non-2xx: the report must say the expectation did not hold.
    assert "Expected 0 non-2xx and 0 socket errors: **NOT held**." in table
    assert "| no-op rerun | 80 s | changed=0 |" in table
    assert doc.startswith("# Benchmarks") and "## Machine" in doc and "## Method" in doc
    # Not held makes `make bench` fail (after writing the table); the original's errors do not.
    assert run_bench.unmet_expectations(load) == ["load test: 3 non-2xx, 0 socket errors"]
    load[("ours", 64)]["non2xx"] = 2
    load["load"] = _figures(850, 160_000, 320_000)
    assert run_bench.unmet_expectations(load) == ["ours answered 2 non-2xx at 64 connections"]
