"""Shared fixtures, and a tiny plugin that runs ``async def`` tests without pytest-asyncio."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connections
from django.test import AsyncClient
from rest_framework.test import APIClient


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test function to completion with ``async_to_sync``.

    Why ``async_to_sync`` and not a fresh event loop: ``async_to_sync`` runs the coroutine in
    an event loop on another thread while this (the test's) thread waits, and every
    thread-sensitive ``sync_to_async`` call made by the code under test is sent back to run on
    the test's own thread. So sync ORM work done through restflow's bridge uses the very same
    DB connection, inside the same transaction that the ``db`` fixture opened and will roll
    back; rows created by fixtures are visible, and nothing leaks between tests. This is
    exactly how Django's own ``TestCase`` runs ``async def`` test methods.
    """
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    coroutine_func: Callable[..., Awaitable[object]] = func
    # Pass only the arguments the test declares (as pytest's own default hook does): funcargs
    # also holds autouse fixtures and fixtures requested through ``usefixtures``.
    names = pyfuncitem._fixtureinfo.argnames
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in names}
    async_to_sync(coroutine_func)(**kwargs)
    return True


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Start every test with an empty default cache (throttle history lives there; with
    ``RESTFLOW_TEST_CACHE=redis`` it would otherwise carry over between tests and runs)."""
    cache.clear()


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads on which a database connection was closed (Django's ``close()``).

    Spied on rather than observed on the raw connection: SQLite's in-memory test
    database ignores ``close()``, PostgreSQL honours it; Django calls it either way.
    """
    seen: list[str] = []
    wrapper = type(connections["default"])
    original = wrapper.close

    def spy(self: Any) -> None:
        if self.connection is not None:
            seen.append(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(wrapper, "close", spy)
    return seen


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sync functions run through asgiref's ``sync_to_async`` (one thread hop each)."""
    seen: list[str] = []
    call_original = SyncToAsync.__call__

    async def counting(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(self.func, "__qualname__", type(self.func).__qualname__))
        return await call_original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    return seen


@pytest.fixture
def api_client() -> APIClient:
    """DRF's test client (requests default to JSON, see ``TEST_REQUEST_DEFAULT_FORMAT``)."""
    return APIClient()


@pytest.fixture
def async_client() -> AsyncClient:
    """Django's ASGI test client, for driving async views through the real handler."""
    return AsyncClient()


@pytest.fixture
def user(db: None) -> User:
    """A saved, active, non-staff user."""
    return User.objects.create_user(username="alice", password="alice-password")


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings
    from django.db import connection

    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"restflow: database {connection.vendor}, cache {backend}"
