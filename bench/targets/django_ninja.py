"""django-ninja (async operations): the trivial GET and the two lists, informational.

Typed the ninja way: ``ModelSchema`` outputs (the same six fields), a nested ``Schema`` for
the latest review (the JSONObject subquery every DRF-based target uses), and a pagination
class of its own API (``AsyncPaginationBase``) that answers in DRF's page shape
(``count``/``next``/``previous``/``results``, 20 a page) with the same two queries: count,
then the page. No auth, permission or throttle on any of them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path
from ninja import Field, ModelSchema, NinjaAPI, Schema
from ninja.pagination import AsyncPaginationBase, paginate

from bench.targets import common
from tests.testapp.models import Product

api = NinjaAPI(title="bench", urls_namespace="bench-ninja", docs_url=None, openapi_url=None)


class Pages(AsyncPaginationBase):
    """Page-number pagination in DRF's response shape; async only (the views are async)."""

    class Input(Schema):
        page: int = Field(1, ge=1)

    class Output(Schema):
        count: int
        next: str | None
        previous: str | None
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        raise NotImplementedError("the bench's ninja operations are async")

    async def apaginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        count = await queryset.acount()
        start = (pagination.page - 1) * common.PAGE_SIZE
        rows = [row async for row in queryset[start : start + common.PAGE_SIZE]]
        last = start + len(rows) >= count
        return {
            "count": count,
            "next": None if last else _link(request, pagination.page + 1),
            "previous": _link(request, pagination.page - 1) if pagination.page > 1 else None,
            "results": rows,
        }


def _link(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    if page == 1:
        query.pop("page", None)
    else:
        query["page"] = str(page)
    base = request.build_absolute_uri(request.path)
    return f"{base}?{query.urlencode()}" if query else base


class ProductOut(ModelSchema):
    class Meta:
        model = Product
        fields = common.PRODUCT_FIELDS


class ReviewOut(Schema):
    id: int
    rating: int
    comment: str


class ProductLatestOut(ProductOut):
    latest_review: ReviewOut | None


@api.get("/bare/")
async def bare(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


@api.get("/products/", response=list[ProductOut])
@paginate(Pages)
async def products(request: HttpRequest) -> Any:
    return common.products()


@api.get("/products-latest/", response=list[ProductLatestOut])
@paginate(Pages)
async def products_latest(request: HttpRequest) -> Any:
    return common.products_with_latest()


urlpatterns = [path("", api.urls)]
