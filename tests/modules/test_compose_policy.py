"""Unit tests for library/compose_policy.py: rules, waivers, thresholds, interpolation, input."""

import copy
import json
from pathlib import Path

import compose_policy as cp
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_COMPOSE = ROOT / "app" / "compose.yaml"
DROP = object()  # marks a key to remove from the hardened service

# A service that meets every rule; each case below breaks (or keeps) exactly one thing.
HARDENED = {
    "image": "dockhand-app:1.0.0",
    "ports": ["80:8000"],
    "user": "10001:10001",
    "read_only": True,
    "tmpfs": ["/tmp"],
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
    "privileged": False,
    "mem_limit": "256m",
    "pids_limit": 128,
    "restart": "unless-stopped",
    "healthcheck": {"test": ["CMD", "true"], "interval": "10s"},
}
DEFAULT_OPTIONS = {name: spec.get("default") for name, spec in cp.ARGUMENT_SPEC.items()}


def service_with(**changes):
    service = copy.deepcopy(HARDENED)
    for key, value in changes.items():
        if value is DROP:
            service.pop(key, None)
        else:
            service[key] = value
    return service


def evaluate_service(service, **options):
    kwargs = {
        "allowed_capabilities": DEFAULT_OPTIONS["allowed_capabilities"],
        "admin_ports": DEFAULT_OPTIONS["admin_ports"],
        **options,
    }
    return cp.evaluate({"services": {"web": service}}, **kwargs)


def pairs(findings):
    return sorted((f["rule"], f["severity"]) for f in findings)


def params(**overrides):
    return {**copy.deepcopy(DEFAULT_OPTIONS), **overrides}


def test_hardened_service_has_no_findings():
    assert evaluate_service(service_with()) == []


FAIL_CASES = [
    ("privileged", {"privileged": True}, [("privileged", "critical")]),
    ("privileged-string", {"privileged": "true"}, [("privileged", "critical")]),
    ("host-network", {"network_mode": "host"}, [("host_network", "high")]),
    ("host-pid", {"pid": "host"}, [("host_pid", "critical")]),
    ("host-ipc", {"ipc": "host"}, [("host_ipc", "high")]),
    ("docker-sock-short-ro", {"volumes": ["/var/run/docker.sock:/var/run/docker.sock:ro"]},
     [("docker_socket_mount", "critical")]),
    ("docker-sock-long", {"volumes": [{"type": "bind", "source": "/run/docker.sock",
                                       "target": "/docker.sock", "read_only": True}]},
     [("docker_socket_mount", "critical")]),
    ("socket-directory", {"volumes": ["/run:/hostrun"]}, [("docker_socket_mount", "critical")]),
    ("rootless-socket", {"volumes": ["/run/user/1000/docker.sock:/d.sock"]},
     [("docker_socket_mount", "critical")]),
    ("containerd-socket", {"volumes": ["/run/containerd/containerd.sock:/c.sock"]},
     [("docker_socket_mount", "critical")]),
    ("root-fs", {"volumes": ["/:/host"]}, [("sensitive_mount", "critical")]),
    ("root-fs-unnormalised", {"volumes": ["//etc/../:/host"]}, [("sensitive_mount", "critical")]),
    ("etc-read-only", {"volumes": ["/etc:/host/etc:ro"]}, [("sensitive_mount", "high")]),
    ("etc-trailing-slash", {"volumes": ["/etc/:/host/etc:ro,z"]}, [("sensitive_mount", "high")]),
    ("etc-long-read-only", {"volumes": [{"type": "bind", "source": "/etc", "target": "/e",
                                         "read_only": True}]}, [("sensitive_mount", "high")]),
    ("etc-file-writable", {"volumes": ["/etc/shadow:/shadow"]}, [("sensitive_mount", "critical")]),
    ("root-home-subpath", {"volumes": ["/root/.ssh:/keys:ro"]}, [("sensitive_mount", "high")]),
    ("tilde-is-root-home", {"volumes": ["~/:/home"]}, [("sensitive_mount", "critical")]),
    ("tilde-alone", {"volumes": ["~:/home:ro"]}, [("sensitive_mount", "high")]),
    ("proc-subpath", {"volumes": ["/proc/sysrq-trigger:/t"]}, [("sensitive_mount", "critical")]),
    ("docker-data", {"volumes": ["/var/lib/docker/volumes:/v"]}, [("sensitive_mount", "critical")]),
    ("ssh-host-keys-read-only", {"volumes": ["/etc/ssh:/ssh:ro"]}, [("sensitive_mount", "high")]),
    ("docker-tls-keys", {"volumes": ["/etc/docker/ca-key.pem:/k:ro"]},
     [("sensitive_mount", "high")]),
    ("cap-add-sys-admin", {"cap_add": ["SYS_ADMIN"]}, [("cap_add", "critical")]),
    ("cap-add-all", {"cap_add": ["ALL"]}, [("cap_add", "critical")]),
    ("cap-add-prefixed", {"cap_add": ["CAP_NET_RAW"]}, [("cap_add", "high")]),
    ("cap-add-chown-not-default", {"cap_add": ["chown"]}, [("cap_add", "high")]),
    ("no-cap-drop", {"cap_drop": DROP}, [("cap_drop_all", "high")]),
    ("cap-drop-partial", {"cap_drop": ["NET_RAW"]}, [("cap_drop_all", "high")]),
    ("no-security-opt", {"security_opt": DROP}, [("no_new_privileges", "high")]),
    ("nnp-false", {"security_opt": ["no-new-privileges:false"]}, [("no_new_privileges", "high")]),
    ("seccomp-unconfined", {"security_opt": ["no-new-privileges:true", "seccomp=unconfined"]},
     [("unconfined_profile", "high")]),
    ("apparmor-unconfined", {"security_opt": ["no-new-privileges", "apparmor:unconfined"]},
     [("unconfined_profile", "high")]),
    ("no-user", {"user": DROP}, [("root_user", "high")]),
    ("empty-user", {"user": ""}, [("root_user", "high")]),
    ("user-root", {"user": "root"}, [("root_user", "high")]),
    ("user-uid-0", {"user": "0:10001"}, [("root_user", "high")]),
    ("user-int-0", {"user": 0}, [("root_user", "high")]),
    ("no-healthcheck", {"healthcheck": DROP}, [("no_healthcheck", "medium")]),
    ("healthcheck-disabled", {"healthcheck": {"disable": True}}, [("no_healthcheck", "medium")]),
    ("healthcheck-none", {"healthcheck": {"test": ["NONE"]}}, [("no_healthcheck", "medium")]),
    ("no-restart", {"restart": DROP}, [("no_restart", "medium")]),
    ("restart-no", {"restart": "no"}, [("no_restart", "medium")]),
    ("restart-false", {"restart": False}, [("no_restart", "medium")]),
    ("no-memory-limit", {"mem_limit": DROP}, [("no_memory_limit", "high")]),
    ("memory-limit-zero", {"mem_limit": "0"}, [("no_memory_limit", "high")]),
    ("no-pids-limit", {"pids_limit": DROP}, [("no_pids_limit", "high")]),
    ("pids-unlimited", {"pids_limit": -1}, [("no_pids_limit", "high")]),
    ("no-read-only", {"read_only": DROP}, [("writable_rootfs", "high")]),
    ("read-only-false", {"read_only": False}, [("writable_rootfs", "high")]),
    ("read-only-string-false", {"read_only": "false"}, [("writable_rootfs", "high")]),
    ("ssh-port", {"ports": ["22:22"]}, [("admin_port", "high")]),
    ("ssh-port-host-ip-proto", {"ports": ["0.0.0.0:22:2222/tcp"]}, [("admin_port", "high")]),
    ("docker-api-port", {"ports": ["2375:2375"]}, [("admin_port", "critical")]),
    ("docker-tls-port-int-target", {"ports": ["2376:8000"]}, [("admin_port", "critical")]),
    ("range-covering-admin", {"ports": ["2370-2380:2370-2380"]},
     [("admin_port", "critical")] * 3 + [("admin_port", "high")] * 2),
    ("loopback-ssh", {"ports": ["127.0.0.1:22:22"]}, [("admin_port", "low")]),
    ("ipv6-loopback-ssh", {"ports": ["[::1]:22:22"]}, [("admin_port", "low")]),
    ("ipv6-any-ssh", {"ports": ["[::]:22:22"]}, [("admin_port", "high")]),
    # Docker's port parser takes everything before the last two colons as the host ip
    ("ipv6-unbracketed-loopback", {"ports": ["::1:22:22"]}, [("admin_port", "low")]),
    ("ipv6-unbracketed-any", {"ports": [":::22:22"]}, [("admin_port", "high")]),
    ("long-syntax-ssh", {"ports": [{"target": 22, "published": "22"}]}, [("admin_port", "high")]),
    ("long-syntax-range", {"ports": [{"target": 80, "published": "3380-3390"}]},
     [("admin_port", "high")]),
    ("unreadable-port", {"ports": ["http:web"]}, [("admin_port", "high")]),
    ("image-latest", {"image": "nginx:latest"}, [("image_tag", "medium")]),
    ("image-untagged", {"image": "nginx"}, [("image_tag", "medium")]),
    ("image-registry-port-untagged", {"image": "registry.local:5000/team/app"},
     [("image_tag", "medium")]),
    ("no-image-no-build", {"image": DROP}, [("image_tag", "medium")]),
    ("build-only", {"image": DROP, "build": {"context": "."}}, [("image_tag", "info")]),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in FAIL_CASES],
                         ids=[c[0] for c in FAIL_CASES])
def test_rule_flags_the_broken_setting(changes, expected):
    findings = evaluate_service(service_with(**changes))
    assert pairs(findings) == sorted(expected)
    for finding in findings:
        assert finding["service"] == "web"
        assert finding["message"]
        assert finding["fix"]
        assert "\n" not in finding["fix"]


def test_every_rule_has_a_failing_case():
    covered = {rule for _, _, expected in FAIL_CASES for rule, _ in expected}
    assert covered == set(cp.RULES)


PASS_CASES = [
    ("cap-add-allowed", {"cap_add": ["NET_BIND_SERVICE"]}),
    ("cap-add-allowed-prefixed", {"cap_add": ["cap_net_bind_service"]}),
    ("localtime-read-only", {"volumes": ["/etc/localtime:/etc/localtime:ro"]}),
    ("relative-bind", {"volumes": ["./data:/data"]}),
    ("other-users-subdirectory", {"volumes": ["~app/data:/data"]}),
    ("named-volume", {"volumes": ["data:/data", "/anonymous"]}),
    ("long-named-volume", {"volumes": [{"type": "volume", "source": "data", "target": "/d"}]}),
    ("tmpfs-mount", {"volumes": [{"type": "tmpfs", "target": "/cache"}]}),
    ("nnp-equals", {"security_opt": ["no-new-privileges=true"]}),
    ("nnp-bare", {"security_opt": ["no-new-privileges"]}),
    ("numeric-user", {"user": "10001"}),
    ("named-user", {"user": "app"}),
    ("restart-on-failure", {"restart": "on-failure:3"}),
    ("restart-always", {"restart": "always"}),
    ("deploy-restart", {"restart": DROP, "deploy": {"restart_policy": {"condition": "any"}}}),
    ("deploy-limits", {"mem_limit": DROP, "pids_limit": DROP,
                       "deploy": {"resources": {"limits": {"memory": "128M", "pids": 64}}}}),
    ("bridge-network", {"network_mode": "bridge", "pid": "container:db"}),
    ("app-port", {"ports": ["8080:8000", "127.0.0.1:8443:8443", "8000"]}),
    ("container-port-22-random-host", {"ports": ["22", 22, "127.0.0.1::22"]}),
    ("long-syntax-app-port",
     {"ports": [{"target": 8000, "published": 443, "host_ip": "0.0.0.0"}]}),  # noqa: S104
    ("range-avoiding-admin", {"ports": ["8000-8010:8000-8010"]}),
    ("image-version", {"image": "registry.local:5000/team/app:1.2.3"}),
    ("image-digest", {"image": "nginx@sha256:" + "a" * 64}),
    ("image-with-build", {"build": {"context": "."}}),
    ("healthcheck-enabled",
     {"healthcheck": {"test": "curl -f http://127.0.0.1/", "disable": False}}),
]


@pytest.mark.parametrize("changes", [c[1] for c in PASS_CASES], ids=[c[0] for c in PASS_CASES])
def test_rule_accepts_the_safe_setting(changes):
    assert evaluate_service(service_with(**changes)) == []


def test_named_volume_binding_a_host_directory_is_a_mount():
    compose = {
        "services": {"web": service_with(volumes=["hostroot:/host"])},
        "volumes": {"hostroot": {"driver": "local",
                                 "driver_opts": {"type": "none", "o": "bind", "device": "/"}}},
    }
    assert pairs(cp.evaluate(compose)) == [("sensitive_mount", "critical")]


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    [
        ("secrets", "/root/.ssh/id_ed25519", [("sensitive_mount", "high")]),
        ("secrets", "/etc/shadow", [("sensitive_mount", "high")]),
        ("configs", "/var/run/docker.sock", [("docker_socket_mount", "critical")]),
        ("secrets", "./secrets/db_password", []),
        ("configs", "/etc/ssl/certs/ca-certificates.crt", []),
    ],
)
def test_file_based_secrets_and_configs_are_mounts(kind, source, expected):
    compose = {
        "services": {"web": service_with(**{kind: [{"source": "item", "target": "/x"}]})},
        kind: {"item": {"file": source}, "unused": {"file": "/"}},
    }
    assert pairs(cp.evaluate(compose, project_dir="/opt/app")) == expected
    compose["services"]["web"][kind] = ["item"]  # short syntax
    assert pairs(cp.evaluate(compose, project_dir="/opt/app")) == expected


def test_relative_source_is_resolved_against_the_project_dir():
    service = service_with(volumes=["../../../../..:/host"])
    assert evaluate_service(service) == []  # stays relative without a project dir
    findings = evaluate_service(service, project_dir="/srv/app/deploy")
    assert pairs(findings) == [("sensitive_mount", "critical")]


def test_allowed_capabilities_option_widens_the_allow_list():
    service = service_with(cap_add=["CHOWN", "SETUID"])
    messages = sorted(f["message"].split(",")[0] for f in evaluate_service(service))
    assert messages == ["adds capability CHOWN", "adds capability SETUID"]
    assert evaluate_service(service, allowed_capabilities=["CAP_CHOWN", "setuid"]) == []


def test_admin_ports_option_replaces_the_default_list():
    service = service_with(ports=["8443:8443", "22:22"])
    assert pairs(evaluate_service(service)) == [("admin_port", "high")]
    findings = evaluate_service(service, admin_ports=[8443])
    assert [f["message"].split()[3] for f in findings] == ["8443"]


def test_default_admin_ports_cover_ssh_and_docker_api():
    assert {22, 2375, 2376} <= set(DEFAULT_OPTIONS["admin_ports"])


def test_findings_are_per_service_and_ordered():
    compose = {"services": {"worker": service_with(privileged=True), "api": service_with(),
                            "cache": service_with(user="root")}}
    findings = cp.evaluate(compose)
    assert [(f["service"], f["rule"]) for f in findings] == [
        ("cache", "root_user"), ("worker", "privileged")]


# --- waivers and thresholds ----------------------------------------------------------------------


def two_services():
    return {"services": {"web": service_with(healthcheck=DROP),
                         "proxy": service_with(healthcheck=DROP, privileged=True)}}


def test_waiver_moves_findings_to_waived_with_the_reason():
    findings = cp.evaluate(two_services())
    result = cp.apply_policy(findings, {"no_healthcheck": "checked by verify"}, "high")
    assert pairs(result["findings"]) == [("privileged", "critical")]
    assert sorted(w["service"] for w in result["waived"]) == ["proxy", "web"]
    assert {w["reason"] for w in result["waived"]} == {"checked by verify"}
    assert result["failed_reasons"] == [
        "proxy: privileged (critical): runs privileged: every capability and every host device"]
    assert result["counts"] == {"info": 0, "low": 0, "medium": 0, "high": 0, "critical": 1}


def test_scoped_waiver_covers_only_its_service():
    findings = cp.evaluate(two_services())
    result = cp.apply_policy(findings, {"no_healthcheck@web": "image has one"}, "critical")
    assert [(w["service"], w["waiver"]) for w in result["waived"]] == [
        ("web", "no_healthcheck@web")]
    assert ("proxy", "no_healthcheck") in {(f["service"], f["rule"]) for f in result["findings"]}


def test_waiver_for_a_critical_finding_lets_the_gate_pass():
    findings = cp.evaluate({"services": {"web": service_with(privileged=True)}})
    assert cp.apply_policy(findings, {}, "high")["failed_reasons"]
    result = cp.apply_policy(findings, {"privileged": "lab only"}, "high")
    assert result["failed_reasons"] == []
    assert result["waived"][0]["rule"] == "privileged"


def test_unused_waiver_is_reported():
    result = cp.apply_policy([], {"host_pid": "was needed once"}, "high")
    assert result["unused_waivers"] == ["host_pid"]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_waiver_without_a_reason_is_an_error(reason):
    errors = cp.check_waivers({"no_healthcheck": reason})
    assert errors == ["waiver 'no_healthcheck' has no reason; say why the finding is accepted"]


def test_waiver_naming_an_unknown_rule_is_an_error():
    errors = cp.check_waivers({"privileges@web": "typo"})
    assert len(errors) == 1
    assert errors[0].startswith("waiver 'privileges@web' names an unknown rule")


@pytest.mark.parametrize(
    ("fail_on", "fails"),
    [("info", True), ("low", True), ("medium", True), ("high", False), ("critical", False)],
)
def test_threshold_against_a_medium_finding(fail_on, fails):
    findings = evaluate_service(service_with(restart=DROP))
    assert pairs(findings) == [("no_restart", "medium")]
    assert bool(cp.apply_policy(findings, {}, fail_on)["failed_reasons"]) is fails


@pytest.mark.parametrize(
    ("fail_on", "fails"),
    [("info", True), ("medium", True), ("high", True), ("critical", False)],
)
def test_threshold_against_a_high_finding(fail_on, fails):
    findings = evaluate_service(service_with(user="root"))
    assert bool(cp.apply_policy(findings, {}, fail_on)["failed_reasons"]) is fails


def test_info_finding_fails_only_at_info():
    findings = evaluate_service(service_with(image=DROP, build="."))
    assert not cp.apply_policy(findings, {}, "low")["failed_reasons"]
    assert cp.apply_policy(findings, {}, "info")["failed_reasons"]


# --- interpolation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${PORT:-80}:8000", {}, "80:8000"),
        ("${PORT:-80}:8000", {"PORT": ""}, "80:8000"),
        ("${PORT:-80}:8000", {"PORT": "8080"}, "8080:8000"),
        ("${PORT-80}", {"PORT": ""}, ""),
        ("${PORT-80}", {}, "80"),
        ("${PORT}", {}, ""),
        ("$PORT/x", {"PORT": "p"}, "p/x"),
        ("$$PORT", {"PORT": "p"}, "$PORT"),
        ("a$$$$b", {}, "a$$b"),
        ("${A:+set}", {"A": "1"}, "set"),
        ("${A:+set}", {"A": ""}, ""),
        ("${A+set}", {"A": ""}, "set"),
        ("${A:-${B:-inner}}", {}, "inner"),
        ("${A:-${B}}", {"B": "b"}, "b"),
        ("cost $5 and $", {}, "cost $5 and $"),
        ("${A:?needed}", {"A": "here"}, "here"),
    ],
)
def test_interpolation(text, variables, expected):
    assert cp.interpolate_string(text, variables) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${TOKEN:?set it}", "required variable TOKEN is missing a value: set it"),
        ("${TOKEN?}", "required variable TOKEN is missing a value: required"),
        ("${OPEN", "unclosed '${'"),
        ("${1BAD}", "invalid interpolation format '${1BAD}'"),
    ],
)
def test_interpolation_errors_name_the_cause(text, message):
    with pytest.raises(cp.PolicyError) as error:
        cp.interpolate_string(text, {})
    assert message in str(error.value)


def test_interpolation_reaches_nested_values_not_keys():
    tree = {"${K}": ["${V:-1}", {"x": "${V:-2}"}, 3, True, None]}
    assert cp.interpolate(tree, {}) == {"${K}": ["1", {"x": "2"}, 3, True, None]}


def test_interpolated_port_is_evaluated():
    definition = {"services": {"web": service_with(ports=["${PORT:-22}:8000"])}}
    result = cp.run(params(definition=definition))
    assert pairs(result["findings"]) == [("admin_port", "high")]
    result = cp.run(params(definition=definition, variables={"PORT": 8080}))
    assert result["findings"] == []


def test_variables_are_passed_as_environment_text():
    definition = {"services": {"web": service_with(read_only="${RO}", image="app:${TAG}",
                                                   user="${UID}")}}
    result = cp.run(params(definition=definition,
                           variables={"RO": True, "TAG": 2, "UID": None}))
    assert pairs(result["findings"]) == [("root_user", "high")]  # UID null: empty user
    result = cp.run(params(definition=definition, variables={"RO": False, "TAG": 2, "UID": 1}))
    assert pairs(result["findings"]) == [("writable_rootfs", "high")]


def write_compose(directory, services, env=None):
    path = directory / "compose.yaml"
    path.write_text(yaml.safe_dump({"services": services}))
    if env is not None:
        (directory / ".env").write_text(env)
    return path


def test_env_file_beside_the_compose_file_is_read(tmp_path):
    path = write_compose(tmp_path, {"web": service_with(ports=["${PORT:-8080}:8000"])},
                         env="# comment\nexport PORT='22'\n")
    assert pairs(cp.run(params(path=str(path)))["findings"]) == [("admin_port", "high")]
    # variables win over the env file
    assert cp.run(params(path=str(path), variables={"PORT": "8081"}))["findings"] == []


def test_explicit_env_file(tmp_path):
    env = tmp_path / "prod.env"
    env.write_text('PORT="2375" # docker api\n')
    definition = {"services": {"web": service_with(ports=["${PORT}:8000"])}}
    result = cp.run(params(definition=definition, env_file=str(env)))
    assert pairs(result["findings"]) == [("admin_port", "critical")]


def test_yaml_is_read_with_yaml_1_2_scalars(tmp_path):
    # YAML 1.1 reads 22:22 as the number 1342 and `no` as false: Compose (YAML 1.2) does not.
    path = tmp_path / "compose.yaml"
    text = yaml.safe_dump({"services": {"web": service_with(ports=DROP, restart=DROP)}})
    path.write_text(text + "    ports:\n    - 22:22\n    restart: no\n")
    findings = cp.run(params(path=str(path)))["findings"]
    assert pairs(findings) == [("admin_port", "high"), ("no_restart", "medium")]


def test_json_compose_file_is_read(tmp_path):
    path = tmp_path / "compose.json"
    path.write_text(json.dumps({"services": {"web": service_with(privileged=True)}}))
    assert pairs(cp.run(params(path=str(path)))["findings"]) == [("privileged", "critical")]


def test_without_pyyaml_json_still_reads_and_yaml_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(cp, "yaml", None)  # a target with python3 only
    compose_json = tmp_path / "compose.json"
    compose_json.write_text(json.dumps({"services": {"web": service_with(user="root")}}))
    assert pairs(cp.run(params(path=str(compose_json)))["findings"]) == [("root_user", "high")]
    with pytest.raises(cp.PolicyError) as error:
        cp.run(params(path=str(APP_COMPOSE)))
    assert "PyYAML is not installed here" in str(error.value)
    assert "delegate_to: localhost" in str(error.value)


# --- input errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("services: [unclosed", "is not valid YAML"),
        ("- a\n- b\n", "is not a Compose mapping (top level is list)"),
        ("name: x\n", "has no services"),
        ("services: {}\n", "has no services"),
        ("services:\n  web: [1, 2]\n", "service 'web' is not a mapping"),
        ("services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n",
         "interpolation failed: required variable IMAGE is missing a value: set IMAGE"),
    ],
    ids=["missing", "invalid-yaml", "list", "no-services-key", "empty-services", "bad-service",
         "required-variable"],
)
def test_input_errors_name_the_cause(tmp_path, content, message):
    path = tmp_path / "compose.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(cp.PolicyError) as error:
        cp.run(params(path=str(path)))
    assert message in str(error.value)


def test_service_with_no_settings_is_evaluated_not_skipped():
    result = cp.run(params(definition={"services": {"bare": None}}))
    assert "root_user" in {f["rule"] for f in result["findings"]}
    assert result["failed_reasons"]


# --- the app's own compose file ------------------------------------------------------------------


def test_app_compose_passes_with_no_waivers():
    result = cp.run(params(path=str(APP_COMPOSE)))
    assert result["services"] == ["web"]
    assert result["findings"] == []
    assert result["waived"] == []
    assert result["failed_reasons"] == []


def test_app_compose_ports_are_interpolated_before_judging():
    compose, project_dir = cp.load(params(path=str(APP_COMPOSE)))
    assert compose["services"]["web"]["ports"] == ["80:8000"]
    assert project_dir == str(APP_COMPOSE.parent)
    result = cp.run(params(path=str(APP_COMPOSE), variables={"APP_PUBLISHED_PORT": "2376"}))
    assert pairs(result["findings"]) == [("admin_port", "critical")]


# --- through AnsibleModule -----------------------------------------------------------------------


def test_module_passes_the_app_compose_file(run_module):
    code, result = run_module(cp, {"path": str(APP_COMPOSE)})
    assert code == 0
    assert result["changed"] is False
    assert result["counts"] == dict.fromkeys(cp.SEVERITIES, 0)


def test_module_fails_and_names_the_findings(run_module):
    definition = {"services": {"web": service_with(privileged=True, restart=DROP)}}
    code, result = run_module(cp, {"definition": definition}, check_mode=True)
    assert code == 1
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["msg"] == (
        "compose_policy: 1 finding(s) at or above 'high': "
        "web: privileged (critical): runs privileged: every capability and every host device"
    )
    assert result["counts"]["medium"] == 1
    assert pairs(result["findings"]) == [("no_restart", "medium"), ("privileged", "critical")]


def test_module_reports_waived_and_warns_about_unused_waivers(run_module):
    definition = {"services": {"web": service_with(privileged=True)}}
    waivers = {"privileged": "lab host", "host_pid": "stale"}
    code, result = run_module(cp, {"definition": definition, "waivers": waivers})
    assert code == 0
    assert [w["rule"] for w in result["waived"]] == ["privileged"]
    assert result["unused_waivers"] == ["host_pid"]
    # ansible-core 2.19 returns warnings as structured summaries; older cores as strings
    assert "'host_pid' matched no finding" in json.dumps(result["warnings"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"definition": {"services": {"web": {}}}, "waivers": {"root_user": ""}},
         "compose_policy: waiver 'root_user' has no reason"),
        ({}, "one of the following is required: path, definition"),
        ({"path": "/nonexistent/compose.yaml"},
         "compose_policy: compose file /nonexistent/compose.yaml does not exist"),
        ({"path": str(APP_COMPOSE), "definition": {"services": {}}},
         "parameters are mutually exclusive: path|definition"),
        ({"definition": {"services": {"web": {}}}, "fail_on": "severe"},
         "value of fail_on must be one of: info, low, medium, high, critical"),
    ],
    ids=["waiver-without-reason", "no-input", "missing-file", "both-inputs", "bad-threshold"],
)
def test_module_argument_errors(run_module, args, message):
    code, result = run_module(cp, args)
    assert code == 1
    assert message in result["msg"]


# --- documentation agrees with argument_spec -----------------------------------------------------


def test_documentation_matches_argument_spec():
    documented = yaml.safe_load(cp.DOCUMENTATION)["options"]
    assert set(documented) == set(cp.ARGUMENT_SPEC)
    for name, spec in cp.ARGUMENT_SPEC.items():
        for key in ("type", "default", "choices", "elements", "required"):
            assert documented[name].get(key) == spec.get(key), (name, key)


def test_return_documents_every_returned_key():
    returned = cp.run(params(path=str(APP_COMPOSE)))
    assert set(yaml.safe_load(cp.RETURN)) == set(returned)


def test_every_rule_is_documented():
    text = cp.DOCUMENTATION
    for rule in cp.RULES:
        assert f"V({rule})" in text, rule
