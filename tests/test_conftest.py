"""The async test runner in ``conftest.py`` shares the test's DB connection and transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from tests.testapp.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(db: None) -> Product:
    return Product.objects.create(name="Widget", price=Decimal("9.99"))


def _count_products() -> int:
    return Product.objects.count()


async def test_thread_sensitive_sync_to_async_sees_fixture_row(product: Product) -> None:
    count = await sync_to_async(_count_products, thread_sensitive=True)()
    assert count == 1


async def test_async_orm_sees_fixture_row(product: Product) -> None:
    assert await Product.objects.acount() == 1
    fetched = await Product.objects.aget(pk=product.pk)
    assert fetched.name == "Widget"


async def test_rows_written_in_async_test_are_visible_to_sync_code() -> None:
    await Product.objects.acreate(name="Gadget", price=Decimal("1.00"))
    assert await sync_to_async(_count_products, thread_sensitive=True)() == 1


def test_previous_async_test_rolled_back() -> None:
    # Runs after the tests above (pytest keeps file order): their rows must be gone.
    assert Product.objects.count() == 0


async def test_user_fixture(user: User) -> None:
    assert await User.objects.filter(username="alice", is_staff=False).aexists()
