"""The async face of restflow's paginators and filters keeps the row type."""

from __future__ import annotations

from typing import assert_type

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.views import APIView

from restflow.filters import OrderingFilter, SearchFilter
from restflow.pagination import CursorPagination, LimitOffsetPagination, PageNumberPagination
from restflow.protocols import AsyncFilterBackend, AsyncPaginator
from tests.testapp.models import Product


async def pages(request: Request, view: APIView) -> None:
    products = Product.objects.all()
    assert_type(
        await PageNumberPagination().apaginate_queryset(products, request, view),
        list[Product] | None,
    )
    assert_type(
        await LimitOffsetPagination().apaginate_queryset([1, 2, 3], request),
        list[int] | None,
    )
    assert_type(
        await CursorPagination().apaginate_queryset(products, request),
        list[Product] | None,
    )

    # DRF-typed settings and attributes accept them, and they fulfil the protocols.
    drf_typed: type[BasePagination] = PageNumberPagination
    paginator: AsyncPaginator[Product] = CursorPagination()
    backends: list[AsyncFilterBackend] = [SearchFilter(), OrderingFilter()]

    # `paginate_queryset` is DRF's sync method: awaiting it is an error.
    page: list[Product] | None = await PageNumberPagination().paginate_queryset(  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]
        products, request
    )


async def filtered(request: Request, view: APIView) -> None:
    products = Product.objects.all()
    assert_type(await SearchFilter().afilter_queryset(request, products, view), QuerySet[Product])
    assert_type(await OrderingFilter().afilter_queryset(request, products, view), QuerySet[Product])
