"""`make bench`: deploy times, throughput against the 2021 original, and a load test.

Prints a table and writes it, with the machine's details and the method, to docs/BENCHMARKS.md.
These are figures, not a gate on speed: the run fails when a step cannot be carried out (a
deploy fails, an app does not answer) or when our app gives a wrong answer (a non-2xx, or a
socket error in the load test; the table is written first), never because a number is slow.

    .venv/bin/python tests/bench/run_bench.py [--duration 20] [--load-test 60] [--targets 4]

Everything it creates (containers, the AWS emulator, temporary directories) is removed at the
end, also on failure, Ctrl-C or SIGTERM. Ansible's output of the last run is kept in
.cache/bench/ for reading after a failure.
"""

import argparse
import contextlib
import itertools
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LOGS = ROOT / ".cache" / "bench"
RUN_ID = f"dockhand-bench-{os.getpid()}"
TARGET_IMAGE = "dockhand/systemd:trixie"
BASE_IMAGE = "dockhand/python-base:trixie"
BASE_ARCHIVE = ROOT / ".cache" / "python-base.tar.gz"
ORIGINAL_IMAGE = "dockhand-bench-original:latest"
RECAP = re.compile(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
GUARD = "http://127.0.0.1:9"  # a closed port: anything headed for the internet fails here
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIABENCHEMULATOR000",
    "AWS_SECRET_ACCESS_KEY": "emulator-only-not-a-secret-bench",
}
PAGE_TEXT = "FATEC AMERICANA"
DEMO_DOWN = "demo teardown (playbooks/demo/down.yml)"


class BenchError(RuntimeError):
    """A step could not be carried out; the message says which and where its log is."""


def log(message):
    print(f"[bench] {message}", flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd, check=True, **kwargs):
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise BenchError(f"{' '.join(map(str, cmd))} failed ({result.returncode}): "
                         f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


def docker(*args, check=True):
    return run(["docker", *args], check=check)


class Cleanup:
    """Undo steps, run last-registered first, whatever ends the run."""

    def __init__(self):
        self.steps = []

    def add(self, what, func):
        self.steps.append((what, func))

    def run_now(self, what):
        """Run one registered step now (and not again at the end)."""
        for index, (name, func) in enumerate(self.steps):
            if name == what:
                del self.steps[index]
                log(what)
                func()
                return
        raise KeyError(what)

    def run_all(self):
        # A second Ctrl-C must not leave containers or the emulator behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while self.steps:
            what, func = self.steps.pop()
            try:
                func()
            except Exception as error:  # report and go on cleaning
                print(f"[bench] cleanup: {what} failed: {error}", file=sys.stderr, flush=True)


# --- machine ------------------------------------------------------------------------------

def _first(path, key):
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":" if ":" in line else "=", 1)[1].strip().strip('"')
    return "unknown"


def machine_details():
    mem_kib = _first("/proc/meminfo", "MemTotal").split()[0]
    server = docker("version", "--format", "{{.Server.Version}}", check=False).stdout.strip()
    wrk = run(["wrk", "--version"], check=False)
    return {
        "CPU model": _first("/proc/cpuinfo", "model name"),
        "CPU cores (online)": str(os.cpu_count()),
        "Memory": f"{int(mem_kib) / 1024 / 1024:.1f} GiB" if mem_kib.isdigit() else "unknown",
        "Kernel": platform.release(),
        "OS": _first("/etc/os-release", "PRETTY_NAME"),
        "Docker (this machine)": server or "unknown",
        "Ansible": f"ansible {metadata.version('ansible')}, ansible-core "
                   f"{metadata.version('ansible-core')}",
        "Python (controller)": platform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip() or "unknown",
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise BenchError("wrk is missing: install it with `sudo apt-get install wrk` "
                         "(Debian/Ubuntu) and run `make bench` again")
    log("wrk is missing: installing it from Debian's packages (apt-get install wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "install", "-y", "-q", "wrk"], check=False, env=env).returncode != 0:
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "wrk"], env=env)


# --- ansible --------------------------------------------------------------------------------

class Ansible:
    runs = itertools.count(1)

    def __init__(self, env):
        self.env = env

    def play(self, label, args):
        """Run ansible-playbook; return (wall seconds, {host: changed})."""
        # Numbered across every runner, so the logs list in the order the runs happened.
        logfile = LOGS / f"{next(Ansible.runs):02d}-{label}.log"
        started = time.monotonic()
        with logfile.open("w") as out:
            code = subprocess.run(
                [str(BIN / "ansible-playbook"), *args], check=False, cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT,
            ).returncode
        seconds = time.monotonic() - started
        output = logfile.read_text()
        recap = {host: int(changed) for host, changed, _, _ in RECAP.findall(output)}
        if code != 0:
            tail = "\n".join(output.splitlines()[-40:])
            raise BenchError(f"{label}: ansible-playbook failed ({code}) after {seconds:.0f} s; "
                             f"log: {logfile}\n{tail}")
        log(f"{label}: {seconds:.1f} s, changed={sum(recap.values())}")
        return seconds, recap


def ansible_env(moto_port=None, no_proxy=()):
    """ansible-playbook's environment: fake AWS credentials (the emulator's port, else a closed
    one) and a proxy that refuses everything but the local hosts and the targets."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}" if moto_port else GUARD,
        "HTTP_PROXY": GUARD, "HTTPS_PROXY": GUARD, "http_proxy": GUARD, "https_proxy": GUARD,
    }
    bypass = ",".join(["127.0.0.1", "localhost", *no_proxy])
    env.update(NO_PROXY=bypass, no_proxy=bypass)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    return env


# --- http ----------------------------------------------------------------------------------

def fetch(url, timeout=10):
    # Straight to the target: the proxy settings of this machine do not apply to it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return response.read().decode()


def wait_for_page(url, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        try:
            page = fetch(url)
        except OSError as error:
            if time.monotonic() > deadline:
                raise BenchError(f"{url} does not answer: {error}") from error
            time.sleep(1)
            continue
        if PAGE_TEXT not in page:
            raise BenchError(f"{url} answers, but not with the app's page: {page[:200]!r}")
        return


def container_ip(name):
    ip = docker("inspect", "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name).stdout.split()
    if not ip:
        raise BenchError(f"container {name} has no IP address")
    return ip[0]


def wrk(url, connections, seconds):
    """One wrk run (2 threads, wrk's default 2 s timeout); figures from report.lua."""
    result = run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s",
                  str(HERE / "report.lua"), url], timeout=seconds + 120)
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["socket_errors"] = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    figures["connections"] = connections
    figures["load_before"] = os.getloadavg()[0]
    return figures


# --- steps ---------------------------------------------------------------------------------

def build_fixture():
    out = run([str(ROOT / "tests/fixtures/docker-apt/build.sh")]).stdout.strip().splitlines()[-1]
    return Path(out)


def demo_path(cleanup, tmp, fixture_port):
    """Cold deploy, no-op rerun and code-only redeploy through playbooks/demo/up.yml."""
    moto_port = free_port()
    names = {
        "demo_container": f"{RUN_ID}-demo",
        "demo_port": free_port(),
        "demo_moto_port": moto_port,
        "demo_fixture_port": fixture_port,
        "demo_state_dir": str(tmp / "demo-state"),
        "ec2_host_deployment": "bench",
        "flask_app_src": str(tmp / "app"),
    }
    shutil.copytree(ROOT / "app", tmp / "app",
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc"))
    extra = ["-i", "inventory/demo/hosts.yml"]
    extra += [arg for key, value in names.items() for arg in ("-e", f"{key}={value}")]
    ansible = Ansible(ansible_env(moto_port))

    def down():
        ansible.play("demo-down", [*extra, "playbooks/demo/down.yml"])

    def force_down():
        # After down.yml, or when it could not run: nothing of the demo may stay.
        docker("rm", "--force", "--volumes", names["demo_container"], check=False)
        pid_file = Path(names["demo_state_dir"]) / "moto.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)

    cleanup.add("demo leftovers", force_down)
    cleanup.add(DEMO_DOWN, down)
    up = [*extra, "playbooks/demo/up.yml"]
    result = {}
    result["cold"], _ = ansible.play("demo-up-cold", up)
    result["noop"], recap = ansible.play("demo-up-noop", up)
    result["noop_changed"] = sum(recap.values())
    url = f"http://127.0.0.1:{names['demo_port']}/"
    before = json.loads(fetch(url + "healthz"))["release"]
    init = tmp / "app" / "dockhand_app" / "__init__.py"
    init.write_text(init.read_text() + "# bench: a one-line code change, a new release\n")
    result["code"], _ = ansible.play("demo-up-code-change", up)
    after = json.loads(fetch(url + "healthz"))["release"]
    if after == before:
        raise BenchError(f"the code-only redeploy did not change the release ({before})")
    result["releases"] = (before, after)
    return result, names["demo_container"]


def start_original(target, tmp):
    """Build the original inside the target's Docker (offline) and run it on port 5000."""
    context = tmp / "original"
    (context / "wheels").mkdir(parents=True)
    for name in ("Dockerfile", "index.py"):
        shutil.copy2(HERE / "original" / name, context / name)
    for wheel in (ROOT / "app" / "wheels").glob("*.whl"):
        shutil.copy2(wheel, context / "wheels" / wheel.name)
    if docker("exec", target, "docker", "image", "inspect", BASE_IMAGE, check=False).returncode:
        # The demo pulled the official base (a registry answered): load the local one.
        docker("cp", str(BASE_ARCHIVE), f"{target}:/root/python-base.tar.gz")
        docker("exec", target, "docker", "load", "--input", "/root/python-base.tar.gz")
    docker("cp", f"{context}/.", f"{target}:/root/bench-original/")
    docker("exec", target, "docker", "build", "--network", "none", "--quiet",
           "--tag", ORIGINAL_IMAGE, "/root/bench-original")
    docker("exec", target, "docker", "run", "--detach", "--name", "bench-original",
           "--publish", "5000:5000", ORIGINAL_IMAGE)


def throughput(target, tmp, duration, load_test):
    start_original(target, tmp)
    ip = container_ip(target)
    urls = {"ours": f"http://{ip}/", "original": f"http://{ip}:5000/"}
    for url in urls.values():
        wait_for_page(url)
    results = {}
    for connections in (64, 256):
        for app, url in urls.items():
            wrk(url, connections, 3)  # warm-up, not recorded
            log(f"wrk {app}, {connections} connections, {duration} s")
            results[(app, connections)] = wrk(url, connections, duration)
    log(f"load test: wrk ours, 256 connections, {load_test} s")
    results["load"] = wrk(urls["ours"], 256, load_test)
    return results


def fan_out(cleanup, tmp, fixture, fixture_port, targets):
    """playbooks/deploy.yml to 1, then to N fresh targets, in one ansible run each."""
    fingerprint = (fixture / "fixture.fpr").read_text().strip()
    times = {}
    for count in (1, targets):
        names = [f"{RUN_ID}-fan{count}-{i}" for i in range(1, count + 1)]
        cleanup.add(f"{count} target(s)", lambda names=names: [
            docker("rm", "--force", "--volumes", name, check=False) for name in names])
        inventory = tmp / f"fan{count}.yml"
        # For both plays of targets.yml: localhost starts the targets, each target prepares.
        bench_vars = {
            "bench_image": TARGET_IMAGE,
            "bench_run_id": RUN_ID,
            "bench_fixture_dir": str(fixture),
            "bench_fixture_port": fixture_port,
        }
        write_inventory(inventory, names, {}, {}, bench_vars)
        ansible = Ansible(ansible_env())
        ansible.play(f"targets-{count}-start", ["-i", str(inventory), "tests/bench/targets.yml"])
        ips = {name: container_ip(name) for name in names}
        repo = f"http://127.0.0.1:{fixture_port}/linux"
        write_inventory(inventory, names, ips, {
            "docker_apt_repo_url": repo,
            "docker_apt_key_url": f"{repo}/debian/gpg",
            "docker_apt_key_fingerprint": fingerprint,
            "flask_app_src": str(ROOT / "app"),
            "flask_app_port": 80,
            "flask_app_base_image": BASE_IMAGE,
            "flask_app_base_image_archive": str(BASE_ARCHIVE),
        })
        ansible = Ansible(ansible_env(no_proxy=ips.values()))
        times[count], _ = ansible.play(
            f"deploy-{count}-targets",
            ["-i", str(inventory), "--forks", str(max(4, count)), "playbooks/deploy.yml"])
        for ip in ips.values():
            wait_for_page(f"http://{ip}/", seconds=30)
        for name in names:
            docker("rm", "--force", "--volumes", name, check=False)
    return times


def write_inventory(path, names, ips, group_vars, all_vars=None):
    hosts = {name: {"ansible_docker_host": name, **({"ansible_host": ips[name]} if ips else {})}
             for name in names}
    inventory = {"all": {
        "vars": all_vars or {},
        "hosts": {"localhost": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "children": {"app_hosts": {"hosts": hosts, "vars": {
            "ansible_connection": "community.docker.docker",
            "ansible_docker_user": "root",
            "ansible_python_interpreter": "/usr/bin/python3",
            **group_vars,
        }}},
    }}
    path.write_text(json.dumps(inventory, indent=2))  # JSON is YAML: the yaml plugin reads it


# --- report --------------------------------------------------------------------------------

def unmet_expectations(load):
    """Correctness, not speed: every answer of ours is a 2xx, and the load test loses nothing."""
    unmet = [f"ours answered {load[('ours', c)]['non2xx']} non-2xx at {c} connections"
             for c in (64, 256) if load[("ours", c)]["non2xx"]]
    soak = load["load"]
    if soak["non2xx"] or soak["socket_errors"]:
        unmet.append(f"load test: {soak['non2xx']} non-2xx, {soak['socket_errors']} socket errors")
    return unmet


def ms(microseconds):
    return f"{microseconds / 1000:.1f} ms"


def held(ok):
    return "held" if ok else "NOT held"


def deploy_rows(deploy, fan, targets):
    ratio = fan[targets] / fan[1]
    return [
        "## Deploy wall times", "",
        "| deploy | wall time | note |", "|---|---|---|",
        f"| cold deploy (demo path: `site.yml`, emulated AWS + a fresh target) "
        f"| {deploy['cold']:.0f} s | Docker installed, image built, health proven |",
        f"| no-op rerun | {deploy['noop']:.0f} s | changed={deploy['noop_changed']} |",
        f"| code-only redeploy (one line changed) | {deploy['code']:.0f} s "
        f"| release {deploy['releases'][0]} → {deploy['releases'][1]} |",
        f"| `deploy.yml` to 1 fresh target | {fan[1]:.0f} s | |",
        f"| `deploy.yml` to {targets} fresh targets at once (one run, forks "
        f"{max(4, targets)}) | {fan[targets]:.0f} s | ratio {targets} : 1 = **{ratio:.2f}** |",
    ]


def throughput_rows(load):
    rows = ["## Throughput: ours vs the 2021 original, same path", "",
            "| connections | app | req/s | p50 | p99 | non-2xx | socket errors |",
            "|---|---|---|---|---|---|---|"]
    apps = (("ours", "ours (gunicorn)"), ("original", "original (Flask dev server)"))
    for connections in (64, 256):
        for app, label in apps:
            f = load[(app, connections)]
            rows.append(f"| {connections} | {label} | {f['rps']:.0f} | {ms(f['p50_us'])} "
                        f"| {ms(f['p99_us'])} | {f['non2xx']} | {f['socket_errors']} |")
        ours, orig = load[("ours", connections)], load[("original", connections)]
        rows.append(f"| {connections} | **ratio ours / original** "
                    f"| **{ours['rps'] / max(orig['rps'], 1e-9):.2f}x** "
                    f"| {ours['p50_us'] / max(orig['p50_us'], 1):.2f}x "
                    f"| {ours['p99_us'] / max(orig['p99_us'], 1):.2f}x | | |")
    zero = all(load[("ours", c)]["non2xx"] == 0 for c in (64, 256))
    rows += ["", f"0 non-2xx for ours at 64 and 256 connections: **{held(zero)}**."]
    return rows


def load_test_rows(load, seconds):
    soak = load["load"]
    clean = soak["non2xx"] == 0 and soak["socket_errors"] == 0
    averages = [f"{app} c{c} {load[(app, c)]['load_before']:.1f}"
                for c in (64, 256) for app in ("ours", "original")]
    averages.append(f"load test {soak['load_before']:.1f}")
    return [
        f"## Load test: ours, 256 connections, {seconds} s", "",
        "| requests | req/s | p50 | p99 | max | non-2xx "
        "| socket errors (connect/read/write/timeout) |",
        "|---|---|---|---|---|---|---|",
        f"| {soak['requests']} | {soak['rps']:.0f} | {ms(soak['p50_us'])} "
        f"| {ms(soak['p99_us'])} | {ms(soak['max_us'])} | {soak['non2xx']} "
        f"| {soak['connect']}/{soak['read']}/{soak['write']}/{soak['timeout']} |", "",
        f"Expected 0 non-2xx and 0 socket errors: **{held(clean)}**.", "",
        "1-minute load average of this machine before each run (other work on the machine "
        "shows here): " + ", ".join(averages) + ".",
    ]


def render(results, args):
    """The table (printed) and the whole document (written)."""
    table = "\n".join([*deploy_rows(results["deploy"], results["fan"], args.targets), "",
                       *throughput_rows(results["load"]), "",
                       *load_test_rows(results["load"], args.load_test)])
    machine = "\n".join(f"| {key} | {value} |" for key, value in results["machine"].items())
    method = METHOD.format(duration=args.duration, load_test=args.load_test, targets=args.targets)
    doc = ("# Benchmarks\n\nGenerated by `make bench` (tests/bench/run_bench.py); do not edit "
           "by hand: run it again. Figures, not pass/fail thresholds.\n\n"
           f"## Machine\n\n| | |\n|---|---|\n{machine}\n\n{table}\n\n{method}")
    return table, doc


METHOD = """## Method
- **Deploy times** are wall times of whole `ansible-playbook` runs on this machine. Cold, no-op
  and code-only go through the demo path (`playbooks/demo/up.yml`, what `make demo` runs) with
  the bench's own container, ports, state directory and deployment name: the AWS emulator
  (moto), a fresh systemd container as the EC2 host, Docker from the local signed stand-in for
  Docker's apt repository, the app built offline from the local base image. The stand-in
  repository is built (or found cached) before the clock starts; everything else is in the
  cold time. The app deployed is a temporary copy of `app/`; for the code-only redeploy one line
  is added to `dockhand_app/__init__.py` (new release id, image rebuilt from the cache, container
  replaced, health proven).
- **1 vs {targets} targets**: fresh target containers are started and prepared (systemd up, the
  IPv6 drop-in, the apt stand-in served inside) with the same task files as the demo
  (`playbooks/demo/tasks/`), untimed; then `playbooks/deploy.yml` runs once against all of
  them (Docker install, app build, rollout, verify from this machine), timed. The ratio is
  `time({targets}) / time(1)`: 1.00 would be perfect parallelism; the machine's CPU count bounds it.
- **Throughput, fair by construction**: the original (`tests/bench/original/`: `index.py` on
  Flask's development server, `python index.py`, port 5000, root, no limits) is built with
  `docker build --network none` from the same base image and Flask wheels *inside the demo
  target's Docker*, next to our deployed container. Both are hit from this machine through the
  target container's IP (ours on port 80, the original on 5000): the same nesting, the same
  bridge and port publishing path, the same client, in the same run, interleaved
  (ours, original at 64, then at 256 connections), each after a 3 s unrecorded warm-up.
  Ours runs as deployed: gunicorn with the app's default workers, read-only, cap_drop ALL,
  256 MiB memory and 128 pids limits.
- **Load generator**: wrk (Debian's package), 2 threads, {duration} s per run, its default 2 s
  request timeout (a request slower than that counts as a timeout socket error).
  `tests/bench/report.lua` counts every response outside 2xx (wrk's own counter only counts
  status >= 400) and reports p50/p99 from wrk's full latency record.
- **Load test**: ours only, 256 connections for {load_test} s: requests/s, p50/p99, non-2xx and
  socket errors.
- **Caveats**: the load generator, the target and both apps share this machine's CPUs; on a
  2-core machine the client takes a real share, and other work running at the same time
  (see the load averages) moves every figure. Compare figures of one run with each other,
  not across machines or runs. The original's page is a fixed string, ours renders a template
  and adds security headers.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--load-test", type=int, default=60, help="seconds of the load test")
    parser.add_argument("--targets", type=int, default=4, help="targets deployed at once")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    cleanup = Cleanup()
    started = time.monotonic()
    try:
        ensure_wrk()
        for image in (TARGET_IMAGE, BASE_IMAGE):
            if docker("image", "inspect", image, check=False).returncode:
                raise BenchError(f"image {image} is missing: run `make images`")
        shutil.rmtree(LOGS, ignore_errors=True)
        LOGS.mkdir(parents=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{RUN_ID}-"))
        cleanup.add("temporary directory", lambda: shutil.rmtree(tmp, ignore_errors=True))
        results = {"machine": machine_details()}
        log("machine: " + "; ".join(f"{k}: {v}" for k, v in results["machine"].items()))
        fixture = build_fixture()
        fixture_port = free_port()

        log("deploy times through the demo path (cold, no-op, code-only)")
        results["deploy"], target = demo_path(cleanup, tmp, fixture_port)
        results["machine"]["Docker (in the targets)"] = docker(
            "exec", target, "docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
        log("throughput: ours vs the original, inside the demo target")
        results["load"] = throughput(target, tmp, args.duration, args.load_test)
        # Tear the demo down now, so the fan-out has the machine to itself.
        cleanup.run_now(DEMO_DOWN)

        log(f"deploy.yml to 1 and to {args.targets} fresh targets")
        results["fan"] = fan_out(cleanup, tmp, fixture, fixture_port, args.targets)

        table, doc = render(results, args)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(doc)
        print("\n" + table + "\n", flush=True)
        log(f"written to {args.output} ({time.monotonic() - started:.0f} s in all)")
        unmet = unmet_expectations(results["load"])
        for line in unmet:
            print(f"[bench] NOT HELD: {line}", file=sys.stderr, flush=True)
        return 1 if unmet else 0
    except BenchError as error:
        print(f"[bench] FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("[bench] interrupted: cleaning up", file=sys.stderr, flush=True)
        return 130
    finally:
        cleanup.run_all()


if __name__ == "__main__":
    sys.exit(main())
