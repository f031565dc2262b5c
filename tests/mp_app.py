"""A tiny ASGI Django project for ``test_throttling_multiprocess.py``.

Served by uvicorn in separate processes (``uvicorn --factory tests.mp_app:create_app``):
async endpoints limited per client by restflow's ``AnonRateThrottle``, counted in Redis:
``/limited/`` to 20 requests a minute, ``/edge/`` to 5 a second (its 200 answers carry
the throttle's clock reading, so the test can check every one-second span).
``RESTFLOW_MP_REDIS_URL`` and ``RESTFLOW_MP_PREFIX`` (the cache key prefix, unique per
test run) come from the environment.
"""

from __future__ import annotations

import os
from typing import Any

from django.urls import URLPattern

__all__ = ["EDGE_RATE", "RATE", "create_app", "urlpatterns"]

#: The limit the test expects to see enforced across every process.
RATE = 20
#: Requests a second on ``/edge/``.
EDGE_RATE = 5

#: Filled in by :func:`create_app` (the views need configured settings to import).
urlpatterns: list[URLPattern] = []


def create_app() -> Any:
    """Configure Django for this process and return its ASGI application."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="restflow-mp-test-not-a-secret",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
        MIDDLEWARE=[],
        DATABASES={},
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["RESTFLOW_MP_REDIS_URL"],
                "KEY_PREFIX": os.environ["RESTFLOW_MP_PREFIX"],
            }
        },
        USE_TZ=True,
    )
    django.setup()

    from django.core.asgi import get_asgi_application
    from django.urls import path
    from rest_framework.permissions import AllowAny
    from rest_framework.request import Request
    from rest_framework.response import Response

    from restflow.throttling import AnonRateThrottle
    from restflow.views import AsyncAPIView

    class Limit(AnonRateThrottle):
        rate = f"{RATE}/min"

    class Limited(AsyncAPIView):
        authentication_classes = []
        permission_classes = [AllowAny]
        throttle_classes = [Limit]

        async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return Response({"pid": os.getpid()})

    class Ready(AsyncAPIView):
        authentication_classes = []
        permission_classes = [AllowAny]
        throttle_classes = []

        async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return Response({"pid": os.getpid()})

    class EdgeLimit(AnonRateThrottle):
        scope = "edge"
        rate = f"{EDGE_RATE}/sec"

    class Edge(AsyncAPIView):
        authentication_classes = []
        permission_classes = [AllowAny]
        throttle_classes = [EdgeLimit]

        def get_throttles(self) -> list[Any]:
            self.checked = super().get_throttles()
            return self.checked

        async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            throttle: Any = self.checked[0]
            return Response({"pid": os.getpid(), "now": throttle.now})

    urlpatterns[:] = [
        path("limited/", Limited.as_view()),
        path("edge/", Edge.as_view()),
        path("ready/", Ready.as_view()),
    ]
    return get_asgi_application()
