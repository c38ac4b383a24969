"""The host half of the check: a healthy host has no finding; each broken item gives a finding
that names it (§7.N), says what is wrong and names the host."""

from __future__ import annotations

import json

import pytest

from .conftest import (
    DOCKER_SOURCES,
    GUNICORN,
    HOST,
    POLICY,
    TCP_HEADER,
    armored,
    b64,
    fake_key,
    tcp_line,
    the_one_finding,
)


def findings(filters, raw, **options):
    return filters.host_findings(raw, HOST, options)


def only(filters, raw, item, *words, **options):
    return the_one_finding(findings(filters, raw, **options), item, *words)


def test_a_healthy_host_has_no_finding(filters, host_raw):
    assert findings(filters, host_raw) == []


def test_facts_not_gathered_are_not_judged(filters):
    # Listeners and sshd that were not read give no finding; a missing package does.
    assert findings(filters, {}, items=[3, 13]) == []
    assert findings(filters, {}, items=[7]) == [
        "§7.7 unattended upgrades: unattended-upgrades is not installed on web-1",
        "§7.7 unattended upgrades: APT::Periodic::Unattended-Upgrade is 'unset', "
        "not \"1\" on web-1",
    ]


# --- item 3: listeners


@pytest.mark.parametrize(("local", "shown"), [
    ("00000000:0948", "tcp/2376 (0.0.0.0)"),
    ("0100007F:0947", "tcp/2375 (127.0.0.1)"),
])
def test_a_listener_on_a_docker_api_port(filters, host_raw, local, shown):
    host_raw["proc_net_tcp"][0] += "\n" + tcp_line(9, local)
    line = only(filters, host_raw, 3, f"something listens on {shown}")
    assert line.startswith("§7.3 Docker API port: ")


def test_an_ipv6_listener_on_2376(filters, host_raw):
    host_raw["proc_net_tcp"][1] += "\n" + tcp_line(9, "00000000000000000000000001000000:0948")
    only(filters, host_raw, 3, "tcp/2376 (::1)")


def test_the_exact_message_format(filters, host_raw):
    host_raw["proc_net_tcp"][0] += "\n" + tcp_line(9, "00000000:0948")
    assert findings(filters, host_raw) == [
        "§7.3 Docker API port: something listens on tcp/2376 (0.0.0.0) on web-1"]


def test_unreadable_socket_tables(filters, host_raw):
    host_raw["proc_net_tcp"] = []
    only(filters, host_raw, 3, "could not read /proc/net/tcp")


def test_listener_parsing(filters):
    text = "\n".join([TCP_HEADER, tcp_line(0, "0100007F:1F90"), tcp_line(1, "0A00000A:0016"),
                      tcp_line(2, "0100007F:0050", state="06")])
    assert filters.parse_listeners([text]) == [("10.0.0.10", 22), ("127.0.0.1", 8080)]


# --- item 7: unattended upgrades


def test_unattended_upgrades_not_installed(filters, host_raw):
    host_raw["unattended_upgrades_status"] = "unknown ok not-installed"
    only(filters, host_raw, 7, "unattended-upgrades is not installed")


@pytest.mark.parametrize("config", ['APT::Periodic::Unattended-Upgrade "0";\n', ""])
def test_unattended_upgrades_not_enabled(filters, host_raw, config):
    host_raw["apt_config"] = config
    only(filters, host_raw, 7, "APT::Periodic::Unattended-Upgrade")


# --- item 8: Docker's apt source


def test_docker_ce_not_installed(filters, host_raw):
    host_raw["docker_policy"] = "docker-ce:\n  Installed: (none)\n  Candidate: (none)\n"
    only(filters, host_raw, 8, "docker-ce is not installed")


def test_docker_ce_installed_by_hand(filters, host_raw):
    host_raw["docker_policy"] = (
        "docker-ce:\n  Installed: 5:28.5.2-1\n  Candidate: 5:28.5.2-1\n  Version table:\n"
        " *** 5:28.5.2-1 100\n        100 /var/lib/dpkg/status\n")
    only(filters, host_raw, 8, "offered by no configured repository")


def test_a_one_line_docker_list(filters, host_raw):
    del host_raw["apt_files"]["/etc/apt/sources.list.d/docker.sources"]
    host_raw["apt_files"]["/etc/apt/sources.list.d/docker.list"] = b64(
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] "
        "https://download.docker.com/linux/debian trixie stable\n")
    only(filters, host_raw, 8, "docker.list", "one-line source")


def test_a_leftover_docker_list_next_to_the_good_source(filters, host_raw):
    host_raw["apt_files"]["/etc/apt/sources.list.d/docker.list"] = b64(
        "# old\ndeb https://download.docker.com/linux/debian trixie stable\n")
    only(filters, host_raw, 8, "docker.list", "one-line")


@pytest.mark.parametrize(("signed_by", "words"), [
    (None, ["has no Signed-By"]),
    ("/usr/share/keyrings/docker.gpg", ["not a keyring under /etc/apt/keyrings/"]),
    ("/etc/apt/keyrings/other.gpg", ["does not exist"]),
    ("\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc", ["embeds its key"]),
])
def test_the_source_must_be_signed_by_a_keyring_under_etc_apt_keyrings(
        filters, host_raw, signed_by, words):
    source = "\n".join(line for line in DOCKER_SOURCES.splitlines()
                       if not line.startswith("Signed-By"))
    if signed_by is not None:
        source += f"\nSigned-By: {signed_by}"
    host_raw["apt_files"]["/etc/apt/sources.list.d/docker.sources"] = b64(source + "\n")
    only(filters, host_raw, 8, "/etc/apt/sources.list.d/docker.sources", *words)


def test_a_mirror_is_recognised_by_what_apt_installed_from(filters, host_raw):
    mirror = "http://127.0.0.1:18098/linux/debian"
    host_raw["docker_policy"] = host_raw["docker_policy"].replace(
        "https://download.docker.com/linux/debian", mirror)
    host_raw["apt_files"]["/etc/apt/sources.list.d/mirror.sources"] = b64(
        f"Types: deb\nURIs: {mirror}\nSuites: trixie\nComponents: stable\n")
    del host_raw["apt_files"]["/etc/apt/sources.list.d/docker.sources"]
    only(filters, host_raw, 8, "mirror.sources", "has no Signed-By")


def test_no_source_defines_the_origin(filters, host_raw):
    del host_raw["apt_files"]["/etc/apt/sources.list.d/docker.sources"]
    only(filters, host_raw, 8, "no apt source file defines https://download.docker.com/linux/debian")


@pytest.mark.parametrize(("path", "content"), [
    ("/etc/apt/trusted.gpg", fake_key("Docker Release (CE deb) <docker@docker.com>")),
    ("/etc/apt/trusted.gpg.d/ce.asc",
     armored(fake_key("Docker Release (CE deb) <docker@docker.com>")).encode()),
    ("/etc/apt/trusted.gpg.d/docker.gpg", fake_key("someone")),
])
def test_a_docker_key_trusted_globally(filters, host_raw, path, content):
    host_raw["apt_files"][path] = b64(content)
    only(filters, host_raw, 8, path, "trusted globally")


def test_policy_parsing(filters):
    assert filters.parse_policy_origins(
        "docker-ce:\n  Installed: (none)\n  Candidate: 5:1\n") is None
    assert filters.parse_policy_origins(POLICY) == ["https://download.docker.com/linux/debian"]


def test_deb822_parsing(filters):
    entries = filters.parse_apt_sources({"/x/a.sources": (
        "# comment\nTypes: deb deb-src\nURIs: http://a/ http://b\nSuites: s\n"
        "Signed-By: /etc/apt/keyrings/k.asc\n\nTypes: deb-src\nURIs: http://c\n\n"
        "Types: deb\nURIs: http://d\nEnabled: no\n")})
    assert [(e["uris"], e["signed_by"], e["enabled"]) for e in entries] == [
        (["http://a/", "http://b"], "/etc/apt/keyrings/k.asc", True),
        (["http://d"], "", False),
    ]


# --- item 9: the Docker daemon


def daemon(host_raw, **changes):
    config = json.loads(host_raw["daemon_json"])
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    host_raw["daemon_json"] = json.dumps(config)


def test_daemon_json_missing(filters, host_raw):
    host_raw["daemon_json"] = None
    only(filters, host_raw, 9, "/etc/docker/daemon.json is missing")


def test_daemon_json_not_json(filters, host_raw):
    host_raw["daemon_json"] = "{live-restore: true"
    only(filters, host_raw, 9, "is not a JSON object")


@pytest.mark.parametrize(("changes", "words"), [
    ({"live_restore": False}, ["live-restore is not true in /etc/docker/daemon.json"]),
    ({"no_new_privileges": None}, ["no-new-privileges is not true"]),
    ({"log_opts": {"max-file": "3"}}, ["without log-opts max-size"]),
    ({"log_driver": None, "log_opts": None}, ["without log-opts max-size"]),
    ({"log_driver": "syslog"}, ["log-driver 'syslog'"]),
    ({"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"]},
     ["puts the API on the network (hosts: tcp://0.0.0.0:2376)"]),
])
def test_daemon_json_settings(filters, host_raw, changes, words):
    daemon(host_raw, **changes)
    found = findings(filters, host_raw)
    assert found and all(line.startswith("§7.9 Docker daemon: ") for line in found), found
    assert any(all(word in line for word in words) for line in found), found


def test_local_log_driver_rotates_by_itself(filters, host_raw):
    daemon(host_raw, log_driver="local", log_opts=None)
    host_raw["docker_info"]["stdout"] = json.dumps(
        {**json.loads(host_raw["docker_info"]["stdout"]), "LoggingDriver": "local"})
    assert findings(filters, host_raw) == []


@pytest.mark.parametrize(("info", "words"), [
    ({"LiveRestoreEnabled": False}, "live-restore is off in the running daemon"),
    ({"SecurityOptions": ["name=seccomp,profile=builtin"]}, "no-new-privileges is not active"),
    ({"LoggingDriver": "local"}, "daemon.json says otherwise"),
    ({"LoggingDriver": "none"}, "logs with 'none'"),
])
def test_the_running_daemon_differs(filters, host_raw, info, words):
    host_raw["docker_info"]["stdout"] = json.dumps(
        {**json.loads(host_raw["docker_info"]["stdout"]), **info})
    only(filters, host_raw, 9, words)


def test_docker_info_fails(filters, host_raw):
    host_raw["docker_info"] = {"rc": 1, "stdout": "",
                               "stderr": "Cannot connect to the Docker daemon"}
    only(filters, host_raw, 9, "`docker info` failed (Cannot connect to the Docker daemon)")


@pytest.mark.parametrize("argv", [
    "/usr/bin/dockerd\0-H\0fd://\0-H\0tcp://0.0.0.0:2375\0",
    "/usr/bin/dockerd\0--host=tcp://0.0.0.0:2375\0",
    "/usr/bin/dockerd\0-Htcp://0.0.0.0:2375\0",
])
def test_dockerd_started_with_a_tcp_host(filters, host_raw, argv):
    host_raw["dockerd_cmdline_b64"] = b64(argv)
    only(filters, host_raw, 9, "dockerd runs with -H tcp://0.0.0.0:2375")


# --- items 10 and 11: the app's containers


def container(host_raw):
    return host_raw["containers"][0]


def test_no_app_container_is_a_finding_for_10_and_11(filters, host_raw):
    host_raw["containers"] = []
    found = findings(filters, host_raw)
    assert found == [
        "§7.10 app process: no container of Compose project 'flask_app' on web-1",
        "§7.11 app container: no container of Compose project 'flask_app' on web-1",
    ]


def test_containers_that_cannot_be_listed(filters, host_raw):
    host_raw["containers"] = None
    assert all("(containers cannot be listed)" in line for line in findings(filters, host_raw))


def test_the_project_name_is_in_the_message(filters, host_raw):
    host_raw["containers"] = []
    assert "'shop'" in findings(filters, host_raw, project="shop", items=[10])[0]


@pytest.mark.parametrize(("user", "image_user"), [("", ""), ("0:0", "10001"), ("root", "10001")])
def test_root_user(filters, host_raw, user, image_user):
    container(host_raw)["Config"]["User"] = user
    host_raw["images"][0]["Config"]["User"] = image_user
    found = findings(filters, host_raw)
    assert found and all(line.startswith("§7.10 app process: container flask_app-web-1: ")
                         for line in found), found
    assert any("runs as root" in line for line in found)


def test_a_process_running_as_uid_0(filters, host_raw):
    host_raw["processes"]["4393"][1]["uid"] = 0
    only(filters, host_raw, 10, "(pid 4426) runs as uid 0")


def test_image_without_healthcheck(filters, host_raw):
    host_raw["images"][0]["Config"]["Healthcheck"] = {"Test": ["NONE"]}
    only(filters, host_raw, 10, "has no HEALTHCHECK")


@pytest.mark.parametrize(("health", "words"), [
    ({"Status": "unhealthy"}, "health status is 'unhealthy'"),
    ({"Status": "starting"}, "health status is 'starting'"),
    (None, "has no health check"),
])
def test_health(filters, host_raw, health, words):
    container(host_raw)["State"]["Health"] = health
    only(filters, host_raw, 10, words)


def test_flask_development_server(filters, host_raw):
    dev = ["/usr/local/bin/python", "-m", "flask", "run", "--host=0.0.0.0"]
    host_raw["processes"]["4393"] = [{"pid": 4393, "ppid": 1, "uid": 10001, "cmdline": dev}]
    found = findings(filters, host_raw)
    assert len(found) == 2, found
    assert "not gunicorn" in found[0]
    assert "Flask's development server runs" in found[1]


def test_werkzeug_reloader_child(filters, host_raw):
    host_raw["processes"]["4393"].append(
        {"pid": 5000, "ppid": 4393, "uid": 10001, "cmdline": ["python", "/usr/lib/werkzeug/x.py"]})
    only(filters, host_raw, 10, "development server")


def test_gunicorn_started_directly(filters, host_raw):
    host_raw["processes"]["4393"][0]["cmdline"] = ["gunicorn", "wsgi:app"]
    assert findings(filters, host_raw) == []


def test_invisible_processes(filters, host_raw):
    host_raw["processes"] = {}
    only(filters, host_raw, 10, "its processes cannot be read")


def test_a_stopped_container(filters, host_raw):
    container(host_raw)["State"] = {"Status": "exited", "Running": False, "Pid": 0,
                                    "Health": {"Status": "unhealthy"}}
    found = findings(filters, host_raw)
    assert found[0] == ("§7.10 app process: container flask_app-web-1: is not running (exited) "
                        "on web-1")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("ReadonlyRootfs", False, "root filesystem is writable"),
    ("Tmpfs", None, "no tmpfs"),
    ("CapDrop", ["NET_RAW"], "capabilities not all dropped"),
    ("CapAdd", ["SYS_ADMIN"], "capabilities added: SYS_ADMIN"),
    ("SecurityOpt", ["no-new-privileges:false"], "no-new-privileges is not set"),
    ("SecurityOpt", None, "no-new-privileges is not set"),
    ("Memory", 0, "no memory limit"),
    ("PidsLimit", -1, "no pids limit"),
    ("PidsLimit", None, "no pids limit"),
    ("Privileged", True, "is privileged"),
    ("Binds", ["/var/run/docker.sock:/var/run/docker.sock"], "mounts /var/run/docker.sock"),
    ("Binds", ["/run:/host-run:ro"], "mounts /run"),
])
def test_container_confinement(filters, host_raw, field, value, words):
    container(host_raw)["HostConfig"][field] = value
    line = only(filters, host_raw, 11, words)
    assert line.startswith("§7.11 app container: container flask_app-web-1: ")


def test_a_tmpfs_mount_counts_as_tmpfs(filters, host_raw):
    container(host_raw)["HostConfig"]["Tmpfs"] = None
    container(host_raw)["Mounts"].append({"Type": "tmpfs", "Destination": "/tmp"})
    assert findings(filters, host_raw) == []


def test_a_socket_volume_mount(filters, host_raw):
    container(host_raw)["Mounts"].append(
        {"Type": "bind", "Source": "/run/docker.sock", "Destination": "/docker.sock"})
    only(filters, host_raw, 11, "mounts /run/docker.sock")


def test_narrowing_the_items_drops_their_findings(filters, host_raw):
    container(host_raw)["HostConfig"]["Privileged"] = True
    container(host_raw)["Config"]["User"] = "root"
    host_raw["daemon_json"] = None
    assert len(findings(filters, host_raw, items=[10])) == 1
    assert len(findings(filters, host_raw, items=[11])) == 1
    assert len(findings(filters, host_raw, items=[9])) == 1
    assert findings(filters, host_raw, items=[3, 7, 8, 13]) == []


def test_every_broken_item_is_reported_at_once(filters, host_raw):
    host_raw["proc_net_tcp"][0] += "\n" + tcp_line(9, "00000000:0948")
    host_raw["apt_config"] = ""
    del host_raw["apt_files"]["/etc/apt/sources.list.d/docker.sources"]
    daemon(host_raw, live_restore=False)
    container(host_raw)["Config"]["User"] = "root"
    container(host_raw)["HostConfig"]["Privileged"] = True
    host_raw["sshd"]["stdout"] = "permitrootlogin yes\n"
    items = sorted({int(line.split()[0][3:]) for line in findings(filters, host_raw)})
    assert items == [3, 7, 8, 9, 10, 11, 13]


# --- item 13: sshd


@pytest.mark.parametrize(("line", "words"), [
    ("passwordauthentication yes", "passwordauthentication is 'yes'"),
    ("kbdinteractiveauthentication yes", "kbdinteractiveauthentication is 'yes'"),
    ("permitrootlogin prohibit-password", "permitrootlogin is 'prohibit-password'"),
])
def test_sshd_settings(filters, host_raw, line, words):
    key = line.split()[0]
    host_raw["sshd"]["stdout"] = "\n".join(
        [ln for ln in host_raw["sshd"]["stdout"].splitlines() if not ln.startswith(key)] + [line])
    only(filters, host_raw, 13, words)


def test_no_sshd_nothing_to_check(filters, host_raw):
    host_raw["sshd"] = None
    assert findings(filters, host_raw) == []


def test_sshd_that_cannot_tell(filters, host_raw):
    host_raw["sshd"] = {"rc": 255, "stdout": "",
                        "stderr": "Missing privilege separation directory: /run/sshd"}
    only(filters, host_raw, 13, "`sshd -T` failed (Missing privilege separation directory")


def test_gunicorn_helper_ignores_a_gunicorn_argument(filters):
    assert not filters._is_gunicorn(["python", "-m", "flask", "run", "--note=gunicorn"])
    assert filters._is_gunicorn(GUNICORN)
