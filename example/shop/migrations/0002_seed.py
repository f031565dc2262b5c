"""Seed the demo with a few categories, products and reviews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    category_model = apps.get_model("shop", "Category")
    product_model = apps.get_model("shop", "Product")
    review_model = apps.get_model("shop", "Review")
    tools = category_model.objects.create(name="Tools")
    garden = category_model.objects.create(name="Garden")
    for index in range(1, 31):
        product = product_model.objects.create(
            name=f"Product {index:02d}",
            price=Decimal(index) + Decimal("0.99"),
            category=tools if index % 2 else garden,
        )
        for rating in range(1, index % 4 + 1):
            review_model.objects.create(
                product=product, rating=rating, comment=f"Review {rating} of {product.name}"
            )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("shop", "Category").objects.all().delete()
    apps.get_model("shop", "Product").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
