"""Gunicorn settings; each can be overridden from the environment."""

import multiprocessing
import os


def default_workers(cpus=None):
    """(2 x CPUs) + 1, the usual starting point for sync workers, capped at 8."""
    cpus = cpus or multiprocessing.cpu_count()
    return min(2 * cpus + 1, 8)


bind = f"0.0.0.0:{os.environ.get('APP_PORT', '8000')}"
# APP_WORKERS, not gunicorn's own WEB_CONCURRENCY: gunicorn crashes on an empty
# WEB_CONCURRENCY, and Compose passes unset variables through as empty strings.
workers = int(os.environ.get("APP_WORKERS") or default_workers())
threads = int(os.environ.get("APP_THREADS", "2"))
timeout = int(os.environ.get("APP_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The root filesystem is read-only; heartbeat files go to memory.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs inside the container, by design
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("APP_LOG_LEVEL", "info")
proc_name = "dockhand-app"
# No runtime control socket: nothing in the container needs it, and the filesystem is read-only.
control_socket_disable = True
