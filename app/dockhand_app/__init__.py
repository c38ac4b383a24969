"""The demo web app: the original FATEC page, served the production way."""

import os
import socket

from flask import Flask, jsonify, render_template

# Settings read from the environment (prefix APP_), with their defaults.
DEFAULTS = {
    "RELEASE_ID": "dev",
    "TITLE": "FATEC AMERICANA",
}


def config_from_env(environ=None):
    """Return the app settings taken from APP_* environment variables."""
    environ = os.environ if environ is None else environ
    return {key: environ.get(f"APP_{key}", default) for key, default in DEFAULTS.items()}


def create_app(test_config=None):
    """App factory: settings from the environment, overridden by ``test_config``."""
    app = Flask(__name__)
    app.config.update(config_from_env())
    if test_config:
        app.config.update(test_config)
    # Read once: the hostname names the serving container and does not change.
    hostname = socket.gethostname()

    @app.get("/")
    def index():
        return render_template(
            "index.html",
            title=app.config["TITLE"],
            hostname=hostname,
            release=app.config["RELEASE_ID"],
        )

    @app.get("/healthz")
    def healthz():
        # Cheap on purpose: the health check polls it; no I/O, no dependencies.
        return jsonify(status="ok", release=app.config["RELEASE_ID"])

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'")
        return response

    return app
