"""Fixtures of the override tests: a fresh call log, two users and a small catalogue."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.overrides.support import CALLS
from tests.testapp.models import Category, Product


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLS.clear()


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user(username="bob", password="bob-password")


@pytest.fixture
def catalogue(user: User, bob: User) -> dict[str, Product]:
    fruit = Category.objects.create(name="fruit")
    veg = Category.objects.create(name="veg")
    rows = {
        "apple": dict(price="1.00", category=fruit, owner=user, is_top=True),
        "pear": dict(price="2.00", category=fruit, owner=user),
        "leek": dict(price="3.00", category=veg, owner=user, is_top=True),
        "kale": dict(price="4.00", category=veg, owner=bob),
    }
    return {name: Product.objects.create(name=name, **fields) for name, fields in rows.items()}
