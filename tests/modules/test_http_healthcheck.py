"""Tests for library/http_healthcheck.py against a real HTTP server on 127.0.0.1."""

import json
import re
import time
import uuid

import http_healthcheck as hc
import pytest
import yaml

DEFAULTS = {name: spec.get("default") for name, spec in hc.ARGUMENT_SPEC.items()}


def params(url, **overrides):
    """Module params as AnsibleModule would pass them; quick intervals for tests."""
    return {**DEFAULTS, "url": url, "interval": 0.02, "timeout": 5, "use_proxy": False,
            **overrides}


def unique():
    return uuid.uuid4().hex


def test_healthy_service(http_server):
    healthy, result = hc.poll(params(f"{http_server}/json"))
    assert healthy is True
    assert result["attempts"] == 3
    assert result["consecutive_successes"] == 3
    assert result["status"] == 200
    assert result["last_error"] is None
    latency = result["latency_ms"]
    assert 0 < latency["min"] <= latency["median"] <= latency["p95"] <= latency["max"]
    assert latency["max"] < 1000
    assert result["body_excerpt"].startswith('{"status": "ok"')
    assert 0 < result["elapsed"] < 5


def test_flaky_service_needs_more_attempts_than_successes(http_server):
    url = f"{http_server}/seq/{unique()}/503,503,200"
    healthy, result = hc.poll(params(url, successes=3))
    assert healthy is True
    assert result["attempts"] == 5
    assert result["consecutive_successes"] == 3
    assert result["last_error"] == "status 503 not in [200]"


def test_a_failure_resets_the_run_of_successes(http_server):
    url = f"{http_server}/seq/{unique()}/200,200,500,200,200,200"
    healthy, result = hc.poll(params(url, successes=3))
    assert healthy is True
    assert result["attempts"] == 6
    assert result["last_error"] == "status 500 not in [200]"


def test_flapping_service_fails_within_the_timeout(http_server):
    url = f"{http_server}/seq/{unique()}/200,500,200,500,200,500,200,500,200,500,500"
    healthy, result = hc.poll(params(url, successes=2, timeout=1.0, interval=0.05))
    assert healthy is False
    assert result["consecutive_successes"] < 2
    assert result["elapsed"] < 2.0


def test_slow_service_exceeds_the_request_timeout(http_server):
    started = time.monotonic()
    healthy, result = hc.poll(params(f"{http_server}/slow/1.5", request_timeout=0.2, timeout=0.9,
                                     interval=0.05))
    assert healthy is False
    # the last request may be cut shorter than request_timeout to end within timeout
    assert re.fullmatch(r"request timed out after 0\.\d+s", result["last_error"])
    assert result["status"] is None
    assert result["attempts"] >= 2
    assert result["latency_ms"] == {"min": None, "median": None, "p95": None, "max": None}
    assert time.monotonic() - started < 1.5


def test_slow_but_within_request_timeout_succeeds(http_server):
    healthy, result = hc.poll(params(f"{http_server}/slow/0.1", successes=1, request_timeout=2))
    assert healthy is True
    assert result["latency_ms"]["min"] >= 100


def test_total_timeout_cuts_the_last_request_short(http_server):
    started = time.monotonic()
    healthy, result = hc.poll(params(f"{http_server}/slow/3", request_timeout=10, timeout=0.5))
    assert healthy is False
    assert result["attempts"] == 1
    assert "timed out" in result["last_error"]
    assert time.monotonic() - started < 1.5


def test_down_service_fails_with_connection_refused(closed_port):
    started = time.monotonic()
    healthy, result = hc.poll(params(f"http://127.0.0.1:{closed_port}/", timeout=0.6,
                                     interval=0.1))
    assert healthy is False
    assert result["last_error"] == "connection refused"
    assert result["status"] is None
    assert result["body_excerpt"] is None
    assert result["attempts"] >= 2
    assert time.monotonic() - started < 1.5


def test_wrong_status(http_server):
    healthy, result = hc.poll(params(f"{http_server}/status/500", timeout=0.3))
    assert healthy is False
    assert result["status"] == 500
    assert result["last_error"] == "status 500 not in [200]"
    assert result["body_excerpt"] == "status 500"


def test_expected_non_200_status(http_server):
    healthy, result = hc.poll(params(f"{http_server}/status/204", status_codes=[200, 204]))
    assert healthy is True
    assert result["status"] == 204


def test_body_regex_matches(http_server):
    healthy, _ = hc.poll(params(f"{http_server}/text", body_regex=r"release r-\d+$"))
    assert healthy is True


def test_wrong_body_regex(http_server):
    healthy, result = hc.poll(params(f"{http_server}/text", body_regex="release r-99",
                                     timeout=0.3))
    assert healthy is False
    assert result["status"] == 200
    assert result["last_error"] == "body does not match /release r-99/"
    assert result["body_excerpt"] == "hello release r-42"


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "ok"), ("count", 200), ("count", "200"), ("ready", True), ("ready", "true"),
     ("checks.db.0.state", "up"), ("checks.db.-1.state", "up"), ("checks", None),
     ("checks", {"db": [{"state": "up"}]})],
)
def test_json_field_matches(http_server, field, value):
    healthy, result = hc.poll(params(f"{http_server}/json", json_field=field, json_value=value,
                                     successes=1))
    assert healthy is True, result["last_error"]


@pytest.mark.parametrize(
    ("path", "field", "value", "error"),
    [
        ("json", "status", "down", 'JSON field status is "ok", expected "down"'),
        ("json", "ready", 1, "JSON field ready is true, expected 1"),
        ("json", "count", 201, "JSON field count is 200, expected 201"),
        ("json", "checks.db.1.state", "up", "JSON field checks.db.1.state is missing"),
        ("json", "release", None, "JSON field release is missing"),
        ("text", "status", "ok", "body is not JSON"),
    ],
)
def test_json_field_mismatch(http_server, path, field, value, error):
    healthy, result = hc.poll(params(f"{http_server}/{path}", json_field=field,
                                     json_value=value, timeout=0.3))
    assert healthy is False
    assert result["last_error"].startswith(error)


def test_follow_redirects(http_server):
    healthy, result = hc.poll(params(f"{http_server}/redirect", json_field="status",
                                     json_value="ok", successes=1))
    assert healthy is True
    assert result["status"] == 200
    healthy, result = hc.poll(params(f"{http_server}/redirect", follow_redirects=False,
                                     status_codes=[302], successes=1))
    assert healthy is True
    assert result["status"] == 302


def test_post_with_body_and_headers(http_server):
    healthy, _ = hc.poll(params(f"{http_server}/echo", method="POST", body="ping",
                                body_regex="^ping$", successes=1))
    assert healthy is True
    healthy, _ = hc.poll(params(f"{http_server}/headers", headers={"X-Probe": "dockhand"},
                                json_field="X-Probe", json_value="dockhand", successes=1))
    assert healthy is True


def test_body_excerpt_is_bounded(http_server):
    healthy, result = hc.poll(params(f"{http_server}/big", timeout=0.2))
    assert healthy is False
    assert result["body_excerpt"] == "x" * hc.EXCERPT_CHARS


def test_latency_summary_uses_nearest_rank_p95():
    samples = [ms / 1000 for ms in range(20, 0, -1)]  # 1..20 ms, unsorted
    assert hc.latency_summary(samples) == {"min": 1.0, "median": 10.5, "p95": 19.0, "max": 20.0}
    assert hc.latency_summary([0.004]) == {"min": 4.0, "median": 4.0, "p95": 4.0, "max": 4.0}


@pytest.mark.parametrize(
    ("actual", "expected", "match"),
    [(1, True, False), (True, 1, False), (True, True, True), (200, 200.0, True),
     ("200", 200, True), (200, "200", True), ("42", 43, False), ("true", True, True),
     (None, "null", True), ("ok", "ok", True), ("ok", "OK", False),
     ({"a": 1}, '{"a": 1}', False), ([1], [1], True), ([1], "[1]", False)],
)
def test_json_equality_rules(actual, expected, match):
    assert hc.json_matches(actual, expected) is match


# --- through AnsibleModule -----------------------------------------------------------------------


def test_module_success_in_check_mode(run_module, http_server):
    code, result = run_module(hc, {"url": f"{http_server}/json", "interval": 0.01,
                                   "use_proxy": False, "json_field": "status",
                                   "json_value": "ok"}, check_mode=True)
    assert code == 0
    assert result["changed"] is False
    assert result["attempts"] == 3
    assert set(result["latency_ms"]) == {"min", "median", "p95", "max"}


def test_module_failure_names_the_cause(run_module, http_server):
    code, result = run_module(hc, {"url": f"{http_server}/status/503", "interval": 0.05,
                                   "timeout": 0.3, "successes": 2, "use_proxy": False})
    assert code == 1
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["msg"].startswith(f"http_healthcheck: {http_server}/status/503 was not healthy: "
                                    "0 of 2 consecutive successes after ")
    assert result["msg"].endswith("(timeout 0.3s); last error: status 503 not in [200]")
    assert result["last_error"] == "status 503 not in [200]"
    assert result["body_excerpt"] == "status 503"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "ftp://127.0.0.1/"}, "url must start with http:// or https://"),
        ({"url": "http://127.0.0.1/", "successes": 0}, "successes must be at least 1"),
        ({"url": "http://127.0.0.1/", "timeout": 0}, "timeout must be greater than 0"),
        ({"url": "http://127.0.0.1/", "interval": -1}, "interval must not be negative"),
        ({"url": "http://127.0.0.1/", "body_regex": "("}, "body_regex is not a valid regular"),
        ({"url": "http://127.0.0.1/", "json_value": "ok"},
         "missing parameter(s) required by 'json_value': json_field"),
        ({}, "missing required arguments: url"),
    ],
)
def test_module_argument_errors(run_module, args, message):
    code, result = run_module(hc, args)
    assert code == 1
    assert message in result["msg"]
    assert "attempts" not in result  # rejected before any request


def test_documentation_matches_argument_spec():
    documented = yaml.safe_load(hc.DOCUMENTATION)["options"]
    assert set(documented) == set(hc.ARGUMENT_SPEC)
    for name, spec in hc.ARGUMENT_SPEC.items():
        for key in ("type", "default", "choices", "elements", "required"):
            assert documented[name].get(key) == spec.get(key), (name, key)


def test_return_documents_every_returned_key(http_server):
    _, result = hc.poll(params(f"{http_server}/json", successes=1))
    assert set(yaml.safe_load(hc.RETURN)) == set(result)
    assert json.dumps(result)  # serialisable as module output
