#!/usr/bin/python
"""Ansible module http_healthcheck: prove an HTTP service healthy with consecutive successes."""

from __future__ import annotations

import json
import math
import re
import statistics
import time
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import Request, make_context

DOCUMENTATION = r"""
---
module: http_healthcheck
short_description: Prove a deploy healthy with consecutive HTTP successes, not one lucky request
description:
  - Polls O(url) until O(successes) consecutive checks succeed, or fails when O(timeout) seconds
    pass first. A failed check resets the run of successes to zero.
  - "A check succeeds when the response status is in O(status_codes) and, when given, the body
    matches O(body_regex) and the JSON field O(json_field) equals O(json_value)."
  - Returns the number of attempts, the latency of the successful checks and the final status; on
    failure the message names the cause, with the last error and a bounded excerpt of the last body.
  - Changes nothing, so it runs in check mode too and always returns C(changed=false).
  - Uses only the Python standard library and Ansible's C(module_utils), so it runs on a target with
    nothing but python3, or from the controller with C(delegate_to) C(localhost).
options:
  url:
    description: The URL to poll (C(http://) or C(https://)).
    type: str
    required: true
  method:
    description: The HTTP method.
    type: str
    default: GET
  body:
    description: A request body to send (for example with C(method=POST)).
    type: str
  status_codes:
    description: Response statuses that count as success.
    type: list
    elements: int
    default: [200]
  body_regex:
    description:
      - A Python regular expression that must be found (C(re.search)) in the response body, read
        as UTF-8 (invalid bytes replaced; at most the first 1 MiB is read).
    type: str
  json_field:
    description:
      - A dotted path into the JSON response body, for example C(status) or C(checks.db.0.state);
        numeric parts index lists.
      - The body must be JSON with this field present.
    type: str
  json_value:
    description:
      - The value O(json_field) must equal. Compared for equality with the field's decoded value;
        when one side is a string and the other a number, boolean or null, the other's JSON text
        is compared, so V("true") matches C(true) and V("42") matches C(42) either way round
        (templating may turn a numeric-looking release id into a number).
      - When omitted (or null), the field only has to be present.
    type: raw
  successes:
    description: Consecutive successful checks required.
    type: int
    default: 3
  timeout:
    description:
      - Total seconds allowed for the whole poll. The last request is cut short to fit, so the
        module returns within about this time.
    type: float
    default: 60
  interval:
    description: Seconds to wait between two checks.
    type: float
    default: 1.0
  request_timeout:
    description: Seconds allowed for one request (connect and read).
    type: float
    default: 5
  headers:
    description: Request headers, for example C(Host) when polling through an IP address.
    type: dict
    default: {}
  validate_certs:
    description: Verify the TLS certificate of an C(https://) URL.
    type: bool
    default: true
  follow_redirects:
    description: Follow redirects for C(GET) and C(HEAD); when false, a redirect status is judged.
    type: bool
    default: true
  use_proxy:
    description: Use the proxy from the environment (C(http_proxy), C(https_proxy), C(no_proxy)).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: It only reads, so it does the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
author:
  - dockhand developers
"""

EXAMPLES = r"""
- name: Prove the app healthy from the controller through its public address
  http_healthcheck:
    url: "http://{{ ansible_host }}/healthz"
    json_field: status
    json_value: ok
    successes: 5
    timeout: 90
  delegate_to: localhost
  register: health

- name: Check from the host itself that the release answers
  http_healthcheck:
    url: http://127.0.0.1/
    body_regex: "release r-42"
    status_codes: [200]

- name: Report the latency the check saw
  ansible.builtin.debug:
    msg: "p95 {{ health.latency_ms.p95 }} ms over {{ health.attempts }} attempts"
"""

RETURN = r"""
attempts:
  description: Checks made.
  returned: always
  type: int
  sample: 4
consecutive_successes:
  description: The run of successful checks at the end (equals O(successes) on success).
  returned: always
  type: int
  sample: 3
latency_ms:
  description:
    - Latency of the successful checks, in milliseconds (request sent to body read). Failed checks
      are left out so that timeouts and refused connections do not skew the figures; all values
      are null when no check succeeded. The p95 is the nearest-rank percentile.
  returned: always
  type: dict
  contains:
    min:
      description: Fastest successful check.
      type: float
    median:
      description: Median successful check.
      type: float
    p95:
      description: 95th percentile (nearest rank) of the successful checks.
      type: float
    max:
      description: Slowest successful check.
      type: float
  sample: {"min": 1.2, "median": 1.9, "p95": 3.4, "max": 3.4}
status:
  description: HTTP status of the last check, or null when it got no HTTP response.
  returned: always
  type: int
  sample: 200
elapsed:
  description: Seconds from the first request to the end of the poll.
  returned: always
  type: float
  sample: 3.05
last_error:
  description:
    - Why the most recent failed check failed, also when the poll ended healthy after a flaky
      start (null when no check failed).
    - A last request cut short by O(timeout) that got no answer does not replace an earlier,
      more telling cause.
  returned: always
  type: str
  sample: "connection refused"
body_excerpt:
  description: The first 512 characters of the last response body (null when there was none).
  returned: always
  type: str
  sample: '{"status": "starting"}'
"""

EXCERPT_CHARS = 512
MAX_BODY_BYTES = 1024 * 1024


class CheckFailed(Exception):
    """One check did not succeed; the message says why."""


def _text(raw):
    return raw.decode("utf-8", errors="replace") if raw is not None else None


def _lookup(document, dotted):
    """The value at a dotted path; raises CheckFailed when it is missing."""
    value = document
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(
            part
        ) < len(value):
            value = value[int(part)]
        else:
            raise CheckFailed(f"JSON field {dotted} is missing")
    return value


def json_matches(actual, expected):
    """Equality (a bool never equals a number), or the same JSON text when one side is a string.

    Templating can turn a numeric-looking release id into an int, and a service can return a
    number as a string: "42" and 42 match; lists and mappings must be equal.
    """
    if isinstance(actual, bool) == isinstance(expected, bool) and actual == expected:
        return True
    scalars = (int, float, bool, type(None))
    if isinstance(expected, str) and isinstance(actual, scalars):
        return expected == json.dumps(actual)
    if isinstance(actual, str) and isinstance(expected, scalars):
        return actual == json.dumps(expected)
    return False


def judge(status, body, params):
    """Raise CheckFailed unless a response satisfies status_codes, body_regex and json_field."""
    if status not in params["status_codes"]:
        raise CheckFailed(f"status {status} not in {params['status_codes']}")
    text = _text(body) or ""
    if params.get("body_regex") and not re.search(params["body_regex"], text):
        raise CheckFailed(f"body does not match /{params['body_regex']}/")
    field = params.get("json_field")
    if field:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise CheckFailed(f"body is not JSON ({exc})") from exc
        actual = _lookup(document, field)
        expected = params.get("json_value")
        if expected is not None and not json_matches(actual, expected):
            raise CheckFailed(
                f"JSON field {field} is {json.dumps(actual)}, expected {json.dumps(expected)}"
            )


def _describe(exc, request_timeout):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"request timed out after {round(request_timeout, 3):g}s"
    return f"{type(reason).__name__}: {reason}"


def request(params, request_timeout, context=None):
    """One request: (status or None, body bytes or None, error or None, seconds).

    Pass a TLS context made once per poll: making one reads the CA store (tens of ms), which
    would otherwise be counted as the service's latency.
    """
    started = time.monotonic()
    try:
        response = Request().open(
            params["method"],
            params["url"],
            data=params.get("body"),
            headers=params.get("headers") or {},
            validate_certs=params["validate_certs"],
            use_proxy=params["use_proxy"],
            follow_redirects="safe" if params["follow_redirects"] else "none",
            timeout=request_timeout,
            use_netrc=False,
            context=context,
        )
        with response:
            body = response.read(MAX_BODY_BYTES)
            status = response.status
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(MAX_BODY_BYTES)
        except (OSError, ValueError):
            body = None
        return exc.code, body, None, time.monotonic() - started
    except Exception as exc:  # any failure of one check is a failed check
        return None, None, _describe(exc, request_timeout), time.monotonic() - started
    return status, body, None, time.monotonic() - started


def latency_summary(seconds):
    """min, median, nearest-rank p95 and max in milliseconds (all None for no samples)."""
    if not seconds:
        return dict.fromkeys(("min", "median", "p95", "max"))
    values = sorted(s * 1000.0 for s in seconds)
    rank = max(1, math.ceil(0.95 * len(values)))
    return {
        "min": round(values[0], 1),
        "median": round(statistics.median(values), 1),
        "p95": round(values[rank - 1], 1),
        "max": round(values[-1], 1),
    }


def _check(params, budget, context):
    """One request judged: (status, body, error or None, seconds)."""
    status, body, error, seconds = request(params, budget, context)
    if error is None:
        try:
            judge(status, body, params)
        except CheckFailed as exc:
            error = str(exc)
    return status, body, error, seconds


def poll(params, clock=time.monotonic, sleep=time.sleep):
    """Poll until enough consecutive successes or the deadline; returns (healthy, result)."""
    # Made before the clock starts: reading the CA store can take longer than a short timeout.
    context = make_context(validate_certs=params["validate_certs"])
    started = clock()
    deadline = started + params["timeout"]
    state = {"attempts": 0, "run": 0, "status": None, "error": None, "body": None}
    latencies = []
    while True:
        budget = max(0.001, min(params["request_timeout"], deadline - clock()))
        status, body, error, seconds = _check(params, budget, context)
        state["attempts"] += 1
        if error is None:
            state["run"] += 1
            latencies.append(seconds)
        else:
            state["run"] = 0
        # A request cut short by the overall deadline that got no answer says nothing about
        # the service: it does not replace the cause of an earlier failure.
        cut_short = status is None and budget < params["request_timeout"] and state["error"]
        if not cut_short:
            state["status"], state["body"] = status, body
            state["error"] = error or state["error"]
        healthy = state["run"] >= params["successes"]
        if healthy or clock() + params["interval"] >= deadline:
            break
        sleep(params["interval"])
    excerpt = _text(state["body"])
    return healthy, {
        "attempts": state["attempts"],
        "consecutive_successes": state["run"],
        "latency_ms": latency_summary(latencies),
        "status": state["status"],
        "elapsed": round(clock() - started, 3),
        "last_error": state["error"],
        "body_excerpt": excerpt[:EXCERPT_CHARS] if excerpt is not None else None,
    }


def failure_message(params, result):
    return (
        f"http_healthcheck: {params['url']} was not healthy: "
        f"{result['consecutive_successes']} of {params['successes']} consecutive successes after "
        f"{result['attempts']} attempt(s) in {result['elapsed']:g}s "
        f"(timeout {params['timeout']:g}s); last error: {result['last_error']}"
    )


ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "method": {"type": "str", "default": "GET"},
    "body": {"type": "str"},
    "status_codes": {"type": "list", "elements": "int", "default": [200]},
    "body_regex": {"type": "str"},
    "json_field": {"type": "str"},
    "json_value": {"type": "raw"},
    "successes": {"type": "int", "default": 3},
    "timeout": {"type": "float", "default": 60},
    "interval": {"type": "float", "default": 1.0},
    "request_timeout": {"type": "float", "default": 5},
    "headers": {"type": "dict", "default": {}},
    "validate_certs": {"type": "bool", "default": True},
    "follow_redirects": {"type": "bool", "default": True},
    "use_proxy": {"type": "bool", "default": True},
}


def validate(params):
    """Errors in option values that argument_spec cannot express."""
    errors = []
    if not re.match(r"^https?://", params["url"], re.IGNORECASE):
        errors.append(f"url must start with http:// or https:// (got {params['url']!r})")
    if params["successes"] < 1:
        errors.append("successes must be at least 1")
    for name in ("timeout", "request_timeout"):
        if params[name] <= 0:
            errors.append(f"{name} must be greater than 0")
    if params["interval"] < 0:
        errors.append("interval must not be negative")
    if params.get("body_regex"):
        try:
            re.compile(params["body_regex"])
        except re.error as exc:
            errors.append(f"body_regex is not a valid regular expression: {exc}")
    return errors


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_by={"json_value": "json_field"},
        supports_check_mode=True,
    )
    params = module.params
    errors = validate(params)
    if errors:
        module.fail_json(msg="http_healthcheck: " + "; ".join(errors), changed=False)
    params["method"] = params["method"].upper()
    healthy, result = poll(params)
    if not healthy:
        module.fail_json(msg=failure_message(params, result), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
