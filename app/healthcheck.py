"""Container HEALTHCHECK: exit 0 when /healthz answers 200 (the slim image has no curl)."""

import os
import sys
import urllib.request

URL = f"http://127.0.0.1:{os.environ.get('APP_PORT', '8000')}/healthz"

try:
    with urllib.request.urlopen(URL, timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
