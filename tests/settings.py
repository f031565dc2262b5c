"""Django settings for the restflow test suite.

The database and cache backends are chosen by environment variables so the same suite runs
on the embedded defaults (SQLite, local-memory cache) and on the production parts
(PostgreSQL through psycopg 3, Redis through Django's ``RedisCache``):

- ``RESTFLOW_TEST_DB``: ``sqlite`` (default) or ``postgres``.
- ``RESTFLOW_TEST_CACHE``: ``locmem`` (default) or ``redis``.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured


def _database(backend: str) -> dict[str, Any]:
    if backend == "sqlite":
        # With NAME ":memory:" Django's test runner keeps the test database in memory.
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    if backend == "postgres":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "USER": "postgres",
            "PASSWORD": "",
            "NAME": "test",
        }
    raise ImproperlyConfigured(
        f"RESTFLOW_TEST_DB={backend!r} is not supported; use 'sqlite' or 'postgres'."
    )


def _cache(backend: str) -> dict[str, Any]:
    if backend == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if backend == "redis":
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    raise ImproperlyConfigured(
        f"RESTFLOW_TEST_CACHE={backend!r} is not supported; use 'locmem' or 'redis'."
    )


TEST_DB: str = os.environ.get("RESTFLOW_TEST_DB", "sqlite")
TEST_CACHE: str = os.environ.get("RESTFLOW_TEST_CACHE", "locmem")

SECRET_KEY = "restflow-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "tests.urls"

DATABASES: dict[str, dict[str, Any]] = {"default": _database(TEST_DB)}
CACHES: dict[str, dict[str, Any]] = {"default": _cache(TEST_CACHE)}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Fast hashing: the suite creates users, it does not test password storage.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK: dict[str, Any] = {
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Imported only when a view's ``schema`` is read (tests/test_spectacular.py).
    "DEFAULT_SCHEMA_CLASS": "restflow.contrib.spectacular.AutoSchema",
}

# The browsable API and DRF's HTML forms render templates from the installed apps.
TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
