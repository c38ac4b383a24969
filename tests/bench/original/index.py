"""The 2021 original, recreated for the benchmark: one page, Flask's development server.

Kept as it was on purpose (``python index.py``, ``app.run(host="0.0.0.0")``, port 5000):
it is the baseline the hardened app is compared with, not something to deploy.
"""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "<h1>FATEC AMERICANA</h1><p>Essa é uma simples aplicação rodando em Docker</p>"


if __name__ == "__main__":
    app.run(host="0.0.0.0")  # noqa: S104 - the original listened on every interface
