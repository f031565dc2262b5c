"""Plain async Django views doing the same queries (the floor for an async list)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path

from bench.targets import common
from tests.testapp.models import Product


async def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def _row(product: Product, latest: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": product.pk,
        "name": product.name,
        "price": str(product.price),
        "category": product.category_id,
        "is_top": product.is_top,
        "created_at": product.created_at.isoformat().replace("+00:00", "Z"),
    }
    if latest:
        row["latest_review"] = product.latest_review  # type: ignore[attr-defined]
    return row


async def _page(request: HttpRequest, queryset: Any, latest: bool) -> JsonResponse:
    number = int(request.GET.get("page", "1"))
    count = await queryset.acount()
    start = (number - 1) * common.PAGE_SIZE
    rows = [_row(p, latest) async for p in queryset[start : start + common.PAGE_SIZE]]
    base = request.build_absolute_uri(request.path)
    return JsonResponse(
        {
            "count": count,
            "next": f"{base}?page={number + 1}" if start + len(rows) < count else None,
            "previous": f"{base}?page={number - 1}" if number > 1 else None,
            "results": rows,
        }
    )


async def products(request: HttpRequest) -> JsonResponse:
    return await _page(request, common.products(), latest=False)


async def products_latest(request: HttpRequest) -> JsonResponse:
    return await _page(request, common.products_with_latest(), latest=True)


urlpatterns = [
    path("bare/", bare),
    path("products/", products),
    path("products-latest/", products_latest),
]
