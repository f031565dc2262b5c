"""Settings of the restflow demo shop: SQLite and the local-memory cache by default.

Environment switches (all optional):

- ``SHOP_DB_ENGINE=postgres``: PostgreSQL (psycopg 3) instead of SQLite, at ``SHOP_DB_HOST``
  (127.0.0.1), ``SHOP_DB_PORT`` (5432), user ``SHOP_DB_USER`` (postgres), password
  ``SHOP_DB_PASSWORD`` (none), database ``SHOP_DB_NAME`` (shop). With SQLite, ``SHOP_DB`` is
  the database file.
- ``SHOP_CACHE=redis``: Django's ``RedisCache`` at ``SHOP_REDIS_URL``
  (redis://127.0.0.1:6379/0), keys prefixed with ``SHOP_CACHE_PREFIX`` (shop), instead of
  the local-memory cache. Throttle counts are then shared by every server process.
- ``SHOP_ANON_RATE`` / ``SHOP_USER_RATE``: the throttle rates (600/min, 6000/min).

Static files (the browsable API's CSS, the Swagger UI and Redoc bundles of
``drf-spectacular-sidecar``) are served by ``shop_project.asgi`` itself, so the demo
needs neither ``collectstatic`` nor a CDN.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "demo-only-not-a-secret")
DEBUG = os.environ.get("SHOP_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "restflow",  # optional: restflow's system checks
    "drf_spectacular",  # the OpenAPI schema at /api/schema/ (django-restflow[spectacular])
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here, not from a CDN
    "shop",
]

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "shop_project.urls"
ASGI_APPLICATION = "shop_project.asgi.application"

DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DB", str(BASE_DIR / "db.sqlite3")),
    }
}
if os.environ.get("SHOP_DB_ENGINE") == "postgres":
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("SHOP_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("SHOP_DB_PORT", "5432"),
        "USER": os.environ.get("SHOP_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("SHOP_DB_PASSWORD", ""),
        "NAME": os.environ.get("SHOP_DB_NAME", "shop"),
    }

CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
if os.environ.get("SHOP_CACHE") == "redis":
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("SHOP_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": os.environ.get("SHOP_CACHE_PREFIX", "shop"),
    }

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
# The browsable API's "Log in" link (rest_framework.urls) comes back to the API root.
LOGIN_REDIRECT_URL = "/api/"

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "restflow.authentication.TokenAuthentication",
        "restflow.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["restflow.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": [
        "restflow.throttling.AnonRateThrottle",
        "restflow.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("SHOP_ANON_RATE", "600/min"),
        "user": os.environ.get("SHOP_USER_RATE", "6000/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "restflow.pagination.PageNumberPagination",
    # restflow's JSONParser: too-deep JSON is a 400, an over-limit body a 413 (never a 500).
    "DEFAULT_PARSER_CLASSES": [
        "restflow.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 20,
    # OpenAPI schemas of restflow's views: request/response serializers, list envelopes.
    "DEFAULT_SCHEMA_CLASS": "restflow.contrib.spectacular.AutoSchema",
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "restflow demo shop",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
