"""Root URLconf of the test suite: empty on purpose.

Each test module declares its own ``urlpatterns`` and sets
``pytestmark = pytest.mark.urls(__name__)``.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
