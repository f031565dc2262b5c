"""What the override tests share: the call log, the serializers, the client matrix."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from restflow.serializers import ModelSerializer
from tests._clients import CLIENTS, basic_auth, on_loop
from tests.testapp.models import Product

#: (hook name, whether it ran on the event loop thread)
CALLS: list[tuple[str, bool]] = []


def record(name: str) -> None:
    CALLS.append((name, on_loop()))


class ProductSerializer(ModelSerializer[Product]):
    greeting = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "name", "price", "greeting"]

    def get_greeting(self, obj: Product) -> str | None:
        return self.context.get("greeting")


OPEN: dict[str, Any] = {"authentication_classes": [], "permission_classes": []}

clients = pytest.mark.parametrize("client", CLIENTS)

ALICE = basic_auth("alice", "alice-password")


def off_loop(*names: str) -> None:
    """Each hook in ``names`` ran, and never on the event loop."""
    for name in names:
        assert (name, False) in CALLS, (name, CALLS)
    assert not [call for call in CALLS if call[1]], CALLS
