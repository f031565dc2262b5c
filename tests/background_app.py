"""A tiny ASGI Django project for ``test_asgi_background.py``: work left behind by a request.

Served by uvicorn (``uvicorn --factory tests.background_app:create_app``). ``GET /spawn/``
answers at once and leaves ``WRITES`` tasks behind (``asyncio.create_task``) that wait
for ``GET /go/`` and then each create one ``Category`` row through the async ORM.
``GET /count/`` says how many rows exist and which errors the tasks met.

The environment picks the parts: ``RESTFLOW_BG_HANDLER`` (``restflow``: restflow's
``get_asgi_application``, ``django``: Django's), ``RESTFLOW_BG_DB`` (``sqlite`` or
``postgres``) and ``RESTFLOW_BG_NAME`` (the SQLite file, or the PostgreSQL database).
``python -m tests.background_app`` with the same environment creates the tables.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from django.urls import URLPattern

__all__ = ["WRITES", "create_app", "urlpatterns"]

#: Rows the tasks left behind by one ``/spawn/`` write.
WRITES = 10

#: Filled in by :func:`create_app` (the views need configured settings to import).
urlpatterns: list[URLPattern] = []


def _configure() -> None:
    import django
    from django.conf import settings

    name = os.environ["RESTFLOW_BG_NAME"]
    if os.environ["RESTFLOW_BG_DB"] == "postgres":
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "USER": "postgres",
            "NAME": name,
        }
    else:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="restflow-background-test-not-a-secret",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "tests.testapp"],
        MIDDLEWARE=[],
        DATABASES={"default": database},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


def create_app() -> Any:
    """Configure Django for this process and return the chosen ASGI application."""
    _configure()
    from django.http import HttpRequest, JsonResponse
    from django.urls import path

    from tests.testapp.models import Category

    go = asyncio.Event()
    errors: list[str] = []
    left_behind: set[asyncio.Task[None]] = set()

    async def write(name: str) -> None:
        await go.wait()
        try:
            await Category.objects.acreate(name=name)
        except Exception as error:  # reported by /count/
            errors.append(f"{type(error).__name__}: {error}")

    async def spawn(request: HttpRequest) -> JsonResponse:
        go.clear()
        for index in range(WRITES):
            task = asyncio.create_task(write(f"{request.GET['tag']}-{index}"))
            left_behind.add(task)
            task.add_done_callback(left_behind.discard)
        return JsonResponse({"left": len(left_behind)})

    async def start(request: HttpRequest) -> JsonResponse:
        go.set()
        return JsonResponse({"go": True})

    async def count(request: HttpRequest) -> JsonResponse:
        rows = await Category.objects.filter(name__startswith=request.GET["tag"]).acount()
        return JsonResponse({"rows": rows, "pending": len(left_behind), "errors": errors})

    urlpatterns[:] = [path("spawn/", spawn), path("go/", start), path("count/", count)]
    if os.environ["RESTFLOW_BG_HANDLER"] == "restflow":
        from restflow.asgi import get_asgi_application as restflow_application

        return restflow_application()
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


if __name__ == "__main__":
    _configure()
    from django.core.management import call_command

    call_command("migrate", "testapp", verbosity=0)
