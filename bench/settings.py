"""Settings for the bench's own gunicorn runs of the plain-view ceiling (bench/ceiling.py):
the project's settings, with a URLconf that adds the ceiling view to the project's URLs.

BENCH_MIDDLEWARE=none runs it with no middleware at all (the bare ceiling); by default
the project's middleware stack stays. Never used outside `make bench`.
"""

import os

from nanogen.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

if os.environ.get("BENCH_MIDDLEWARE", "project") == "none":
    MIDDLEWARE.clear()  # noqa: F405 - the list nanogen.settings built, emptied for this process
