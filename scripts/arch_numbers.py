"""Print the numbers issue 11 tracks for a user's ``AsyncModelViewSet`` subclass.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python scripts/arch_numbers.py``.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from rest_framework import viewsets as drf_viewsets  # noqa: E402

from restflow.views import AsyncModelViewSet  # noqa: E402


class UserViewSet(AsyncModelViewSet):  # type: ignore[type-arg]
    """A user's subclass, as a project writes it."""


class DRFUserViewSet(drf_viewsets.ModelViewSet):  # type: ignore[type-arg]
    """The same, on DRF."""


def _private(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        for name in vars(klass)
        if name.startswith("_") and not name.startswith("__")
    }


extra = sorted(_private(UserViewSet) - _private(DRFUserViewSet))
print("user AsyncModelViewSet subclass MRO length:", len(UserViewSet.__mro__))
print("DRF ModelViewSet MRO length:", len(drf_viewsets.ModelViewSet.__mro__))
print("DRF ModelViewSet user subclass MRO length:", len(DRFUserViewSet.__mro__))
print("private names beyond DRF's ModelViewSet:", len(extra))
for name in extra:
    print("   ", name)
print("MRO:")
for klass in UserViewSet.__mro__:
    print("   ", f"{klass.__module__}.{klass.__qualname__}")
