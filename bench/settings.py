"""Django settings shared by every benchmark target (one process per target).

``BENCH_DB`` is the SQLite file of this process (a copy of the seeded template),
``BENCH_TARGET`` picks the URLconf (``bench.targets.<target>``). No middleware: the
suite measures the REST frameworks, not Django's session/CSRF middleware (which
would add the same cost, and several thread hops, to every async target).
"""

from __future__ import annotations

import os
from typing import Any

SECRET_KEY = "bench-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "tests.testapp",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.targets." + os.environ.get("BENCH_TARGET", "restflow").replace("-", "_")
DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", "bench.sqlite3"),
        "CONN_MAX_AGE": 0,
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
