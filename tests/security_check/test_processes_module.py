"""security_check_processes: the process tree under a pid, from /proc, without ps."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO, load

MODULE = load(REPO / "library" / "security_check_processes.py", "security_check_processes")


def fake_process(proc, pid, ppid, uid, argv, *, comm="python3"):
    path = proc / str(pid)
    path.mkdir()
    (path / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560\n")
    (path / "status").write_text(f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    (path / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")


def test_the_tree_under_a_pid_root_first(tmp_path):
    fake_process(tmp_path, 1, 0, 0, ["/sbin/init"])
    fake_process(tmp_path, 40, 1, 0, ["containerd-shim"])
    fake_process(tmp_path, 42, 40, 10001, ["gunicorn", "wsgi:app"], comm="gunicorn: master")
    fake_process(tmp_path, 44, 42, 10001, ["gunicorn", "wsgi:app"])
    fake_process(tmp_path, 43, 42, 10001, ["gunicorn", "wsgi:app"], comm="odd) name")
    fake_process(tmp_path, 50, 1, 0, ["sshd"])
    (tmp_path / "self").mkdir()  # not a pid: ignored
    trees = MODULE.process_trees(str(tmp_path), [42, 999])
    assert [p["pid"] for p in trees["42"]] == [42, 43, 44]
    assert trees["42"][0] == {"pid": 42, "ppid": 40, "uid": 10001,
                              "cmdline": ["gunicorn", "wsgi:app"]}
    assert trees["999"] == []


def test_the_real_proc(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        trees = MODULE.process_trees("/proc", [os.getpid()])
    finally:
        child.kill()
        child.wait()
    mine = trees[str(os.getpid())]
    assert mine[0]["uid"] == os.getuid()
    assert any(p["pid"] == child.pid and p["cmdline"][1] == "-c" for p in mine)
