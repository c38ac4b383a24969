"""Unit tests of the docker role's filters: key inspection, daemon.json checks, version pins."""

from __future__ import annotations

import base64
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from .conftest import gpg_primary_fingerprints


def gpg(home, *args, **kwargs):
    return subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            *args,
        ],
        check=True,
        capture_output=True,
        **kwargs,
    ).stdout


def make_key(home, uid: str, algo: str = "ed25519") -> str:
    gpg(home, "--quick-gen-key", uid, algo, "cert", "never")
    fpr = next(
        line.split(":")[9]
        for line in gpg(home, "--with-colons", "--list-keys", uid, text=True).splitlines()
        if line.startswith("fpr:")
    )
    gpg(home, "--quick-add-key", fpr, algo, "sign", "never")
    return fpr


@pytest.fixture
def two_keys(gnupg_home):
    return (
        make_key(gnupg_home, "first <first@example.invalid>"),
        make_key(gnupg_home, "second <second@example.invalid>", "rsa2048"),
    )


# --- openpgp_key_info -------------------------------------------------------------------------


def test_armoured_key_with_subkey_gives_only_the_primary(filters, gnupg_home, two_keys, tmp_path):
    first, _ = two_keys
    armoured = gpg(gnupg_home, "--armor", "--export", first, text=True)
    (tmp_path / "k.asc").write_text(armoured)
    info = filters.openpgp_key_info(armoured)
    assert info["fingerprints"] == [first]
    assert gpg_primary_fingerprints(tmp_path / "k.asc", gnupg_home) == [first]
    assert info["armored"]


def test_binary_key_through_slurp_base64(filters, gnupg_home, two_keys):
    _, second = two_keys
    binary = gpg(gnupg_home, "--export", second)
    info = filters.openpgp_key_info(base64.b64encode(binary).decode(), "base64")
    assert info["fingerprints"] == [second]
    assert not info["armored"]


def test_a_file_with_two_keys_lists_both(filters, gnupg_home, two_keys):
    """The role demands exactly [expected]: an extra key smuggled in must show."""
    armoured = gpg(gnupg_home, "--armor", "--export", *two_keys, text=True)
    assert sorted(filters.openpgp_key_info(armoured)["fingerprints"]) == sorted(two_keys)


def test_canonical_armour_round_trips(filters, gnupg_home, two_keys):
    armoured = gpg(gnupg_home, "--armor", "--export", two_keys[0], text=True)
    canonical = filters.openpgp_key_info(armoured)["armored_key"]
    assert canonical.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n")
    assert filters.openpgp_key_info(canonical)["fingerprints"] == [two_keys[0]]
    assert filters.openpgp_key_info(canonical)["armored_key"] == canonical


def test_armour_headers_are_tolerated(filters, gnupg_home, two_keys):
    armoured = gpg(gnupg_home, "--armor", "--export", two_keys[0], text=True)
    with_header = armoured.replace("-----\n\n", "-----\nComment: hello: world\n\n", 1)
    assert filters.openpgp_key_info(with_header)["fingerprints"] == [two_keys[0]]


def test_secret_key_is_refused(filters, gnupg_home, two_keys):
    armoured = gpg(gnupg_home, "--armor", "--export-secret-keys", two_keys[0], text=True)
    with pytest.raises(AnsibleFilterError, match="SECRET"):
        filters.openpgp_key_info(armoured)
    binary = gpg(gnupg_home, "--export-secret-keys", two_keys[0])
    with pytest.raises(AnsibleFilterError, match="SECRET"):
        filters.openpgp_key_info(base64.b64encode(binary).decode(), "base64")


def test_damaged_armour_is_refused(filters, gnupg_home, two_keys):
    lines = gpg(gnupg_home, "--armor", "--export", two_keys[0], text=True).splitlines()
    body = lines[3]
    lines[3] = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(AnsibleFilterError, match=r"CRC24|OpenPGP"):
        filters.openpgp_key_info("\n".join(lines))


@pytest.mark.parametrize(
    "text",
    ["", "<html>404 Not Found</html>", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n"],
)
def test_what_is_not_a_key_is_refused(filters, text):
    with pytest.raises(AnsibleFilterError):
        filters.openpgp_key_info(text)


@pytest.mark.parametrize(
    "pasted",
    [
        "9DC8 5822 9FC7 DD38 854A E2D8 8D81 803C 0EBF CD88",
        "9dc858229fc7dd38854ae2d88d81803c0ebfcd88",
        "0x9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
        "9D:C8:58:22:9F:C7:DD:38:85:4A:E2:D8:8D:81:80:3C:0E:BF:CD:88\n",
    ],
)
def test_fingerprint_normalisation(filters, pasted):
    expected = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
    assert filters.openpgp_fingerprint_normalize(pasted) == expected


# --- docker_daemon_tcp_problems -----------------------------------------------------------------

TLS = {"tlsverify": True, "tlscacert": "/ca.pem", "tlscert": "/cert.pem", "tlskey": "/key.pem"}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"log-driver": "json-file"},
        {"hosts": ["unix:///var/run/docker.sock"]},
        {"hosts": "fd://"},
        {"hosts": ["fd://", "unix:///run/docker.sock"]},
    ],
)
def test_local_sockets_are_fine(filters, options):
    assert filters.docker_daemon_tcp_problems(options) == []


@pytest.mark.parametrize(
    "host", ["tcp://0.0.0.0:2375", "TCP://10.0.0.1:2376", "0.0.0.0:2375", ":2375", "ssh://x"]
)
def test_network_hosts_are_refused_without_opt_in(filters, host):
    problems = filters.docker_daemon_tcp_problems({"hosts": ["unix:///x.sock", host], **TLS})
    assert len(problems) == 1
    assert host in problems[0]
    assert "docker_daemon_allow_tcp" in problems[0]


def test_opt_in_still_needs_every_tls_setting(filters):
    options = {"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": True, "tlscacert": "/ca.pem"}
    problems = filters.docker_daemon_tcp_problems(options, True)
    assert len(problems) == 1
    assert "tlscert" in problems[0] and "tlskey" in problems[0]
    assert "tlscacert" not in problems[0]


def test_opt_in_without_verification_is_refused(filters):
    """tls alone encrypts but lets any client in: tlsverify is the client authentication."""
    options = {"hosts": ["tcp://0.0.0.0:2376"], **TLS, "tlsverify": False, "tls": True}
    assert "tlsverify: true" in filters.docker_daemon_tcp_problems(options, True)[0]


def test_opt_in_with_mutual_tls_is_accepted(filters):
    options = {"hosts": ["tcp://0.0.0.0:2376"], **TLS}
    assert filters.docker_daemon_tcp_problems(options, True) == []


def test_options_must_be_a_mapping(filters):
    assert filters.docker_daemon_tcp_problems(["hosts"]) != []


# --- docker_resolve_version ---------------------------------------------------------------------

MADISON = """\
 docker-ce | 5:27.3.10-1~debian.12~bookworm | https://download.docker.com/linux/debian bookworm/stable amd64 Packages
 docker-ce | 5:27.3.1-1~debian.12~bookworm | https://download.docker.com/linux/debian bookworm/stable amd64 Packages
 docker-ce | 5:27.3.0-1~debian.12~bookworm | https://download.docker.com/linux/debian bookworm/stable amd64 Packages
 docker-ce | 5:27.30.0-1~debian.12~bookworm | https://download.docker.com/linux/debian bookworm/stable amd64 Packages
 docker-ce | 5:26.1.5-1~debian.12~bookworm | https://download.docker.com/linux/debian bookworm/stable amd64 Packages
"""  # noqa: E501


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("5:27.3.1-1~debian.12~bookworm", "5:27.3.1-1~debian.12~bookworm"),
        ("27.3.1", "5:27.3.1-1~debian.12~bookworm"),
        ("5:27.3.1", "5:27.3.1-1~debian.12~bookworm"),
        ("27.3", "5:27.3.10-1~debian.12~bookworm"),  # newest 27.3.x, never 27.30
        ("27.30", "5:27.30.0-1~debian.12~bookworm"),
        ("26", "5:26.1.5-1~debian.12~bookworm"),
        ("2", ""),  # '2' is not a prefix of 26 or 27 at a component boundary
        ("25", ""),
        ("", ""),
    ],
)
def test_version_resolution(filters, wanted, expected):
    assert filters.docker_resolve_version(MADISON, wanted) == expected


def test_version_resolution_without_candidates(filters):
    assert filters.docker_resolve_version("", "27.3") == ""
