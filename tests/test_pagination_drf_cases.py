"""DRF's own pagination cases, run against restflow's paginators and DRF's in the same tests.

Our versions of the cases in DRF's ``tests/test_pagination.py`` (not installed with
DRF): page numbers and limit/offset over a plain ``range``, links and page controls,
DRF's cursor walk over a mock queryset (any object with ``order_by``, ``filter`` and
slicing), over real ``values()`` querysets with integer and
datetime orderings, and the ordering filter's say in the cursor ordering. Each test takes
the pagination module (DRF's or restflow's) as a parameter and must pass on both.
"""

from __future__ import annotations

import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import IntegerField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import exceptions, filters, generics, serializers, status
from rest_framework import pagination as drf_pagination
from rest_framework.pagination import PAGE_BREAK, PageLink
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from restflow import pagination as rf_pagination
from tests.testapp.models import Product

if TYPE_CHECKING:
    AnyPaginator = DjangoPaginator[Any]
else:  # Django's Paginator takes no type arguments at run time
    AnyPaginator = DjangoPaginator

factory = APIRequestFactory()

MODULES = pytest.mark.parametrize(
    "module", [drf_pagination, rf_pagination], ids=["drf", "restflow"]
)


def _request(query: dict[str, Any] | None = None, url: str = "/") -> Request:
    return Request(factory.get(url, query or {}))


# -- a list view over range(1, 101), filtered to even numbers --------------------------------


class PassThrough(serializers.BaseSerializer[Any]):
    def to_representation(self, instance: Any) -> Any:
        return instance


class EvenOnly(filters.BaseFilterBackend):
    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        return [item for item in queryset if item % 2 == 0]


def _even_view(module: ModuleType) -> Any:
    class Pages(module.PageNumberPagination):  # type: ignore[name-defined,misc]  # a module parameter
        page_size = 5
        page_size_query_param = "page_size"
        max_page_size = 20

    return generics.ListAPIView.as_view(
        serializer_class=PassThrough,
        queryset=range(1, 101),
        filter_backends=[EvenOnly],
        pagination_class=Pages,
    )


@MODULES
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"page": 2},
            {
                "results": [12, 14, 16, 18, 20],
                "previous": "http://testserver/",
                "next": "http://testserver/?page=3",
                "count": 50,
            },
        ),
        (
            {"page_size": 10},
            {
                "results": [2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
                "previous": None,
                "next": "http://testserver/?page=2&page_size=10",
                "count": 50,
            },
        ),
        (
            {"page_size": 1000},  # capped at max_page_size
            {
                "results": list(range(2, 41, 2)),
                "previous": None,
                "next": "http://testserver/?page=2&page_size=1000",
                "count": 50,
            },
        ),
        (
            {"page_size": 0},  # invalid: the default size
            {
                "results": [2, 4, 6, 8, 10],
                "previous": None,
                "next": "http://testserver/?page=2&page_size=0",
                "count": 50,
            },
        ),
        (
            {"page": 2, "filter": "even"},  # other parameters are kept in the links
            {
                "results": [12, 14, 16, 18, 20],
                "previous": "http://testserver/?filter=even",
                "next": "http://testserver/?filter=even&page=3",
                "count": 50,
            },
        ),
    ],
)
def test_filtered_list_is_paginated(
    module: ModuleType, query: dict[str, Any], expected: dict[str, Any]
) -> None:
    response: Any = _even_view(module)(factory.get("/", query))
    assert response.status_code == status.HTTP_200_OK
    assert response.data == expected


@MODULES
@pytest.mark.parametrize("page", ["0", "invalid"])
def test_zero_or_invalid_page_is_404(module: ModuleType, page: str) -> None:
    response: Any = _even_view(module)(factory.get("/", {"page": page}))
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.data == {"detail": "Invalid page."}


# -- page numbers -----------------------------------------------------------------------------


def _pages(module: ModuleType, **config: Any) -> Any:
    return type("Pages", (module.PageNumberPagination,), {"page_size": 5, **config})()


def url(rest: str | None) -> str | None:
    return None if rest is None else f"http://testserver/{rest}"


def _link(url: str, number: int, active: bool = False) -> PageLink:
    return PageLink(f"http://testserver/{url}", number, active, False)


@MODULES
@pytest.mark.parametrize(
    ("page", "results", "previous", "next_", "page_links"),
    [
        (
            None,
            [1, 2, 3, 4, 5],
            None,
            "?page=2",
            [
                _link("", 1, True),
                _link("?page=2", 2),
                _link("?page=3", 3),
                PAGE_BREAK,
                _link("?page=20", 20),
            ],
        ),
        (
            2,
            [6, 7, 8, 9, 10],
            "",
            "?page=3",
            [
                _link("", 1),
                _link("?page=2", 2, True),
                _link("?page=3", 3),
                PAGE_BREAK,
                _link("?page=20", 20),
            ],
        ),
        (
            "last",
            [96, 97, 98, 99, 100],
            "?page=19",
            None,
            [
                _link("", 1),
                PAGE_BREAK,
                _link("?page=18", 18),
                _link("?page=19", 19),
                _link("?page=20", 20, True),
            ],
        ),
    ],
)
def test_page_number_pages_links_and_controls(
    module: ModuleType,
    page: Any,
    results: list[int],
    previous: str | None,
    next_: str | None,
    page_links: list[Any],
) -> None:
    paginator = _pages(module)
    page_rows = paginator.paginate_queryset(
        range(1, 101), _request({} if page is None else {"page": page})
    )
    assert list(page_rows) == results
    assert paginator.get_paginated_response(results).data == {
        "results": results,
        "previous": url(previous),
        "next": url(next_),
        "count": 100,
    }
    assert paginator.get_html_context() == {
        "previous_url": url(previous),
        "next_url": url(next_),
        "page_links": page_links,
    }
    assert paginator.display_page_controls
    assert isinstance(paginator.to_html(), str)


@MODULES
def test_page_number_invalid_page_raises_not_found(module: ModuleType) -> None:
    with pytest.raises(exceptions.NotFound):
        _pages(module).paginate_queryset(range(1, 101), _request({"page": "invalid"}))


class OnePageOnly(AnyPaginator):
    count = 1  # DRF's case: a paginator that overrides the count


@MODULES
def test_overridden_django_paginator_is_used(module: ModuleType) -> None:
    paginator = _pages(module, django_paginator_class=OnePageOnly)
    assert list(paginator.paginate_queryset(range(1, 101), _request())) == [1]
    assert paginator.get_paginated_response([1]).data == {
        "results": [1],
        "previous": None,
        "next": None,
        "count": 1,
    }
    assert paginator.get_html_context()["page_links"] == [_link("", 1, True)]
    assert not paginator.display_page_controls
    with pytest.raises(exceptions.NotFound):
        paginator.paginate_queryset(range(1, 101), _request({"page": "invalid"}))


# -- limit / offset ---------------------------------------------------------------------------


def _limits(module: ModuleType) -> Any:
    return type("Limits", (module.LimitOffsetPagination,), {"default_limit": 10, "max_limit": 15})()


@MODULES
@pytest.mark.parametrize(
    ("query", "results", "previous", "next_"),
    [
        ({"limit": 5}, [1, 2, 3, 4, 5], None, "?limit=5&offset=5"),
        # An offset that is no multiple of the limit: the first page still starts at 0.
        ({"limit": 5, "offset": 1}, [2, 3, 4, 5, 6], "?limit=5", "?limit=5&offset=6"),
        ({"limit": 5, "offset": 5}, [6, 7, 8, 9, 10], "?limit=5", "?limit=5&offset=10"),
        (
            {"limit": 5, "offset": 10},
            [11, 12, 13, 14, 15],
            "?limit=5&offset=5",
            "?limit=5&offset=15",
        ),
        ({"limit": 5, "offset": 95}, [96, 97, 98, 99, 100], "?limit=5&offset=90", None),
        ({"limit": 5, "offset": "invalid"}, [1, 2, 3, 4, 5], None, "?limit=5&offset=5"),
        ({"limit": "invalid", "offset": 0}, list(range(1, 11)), None, "?limit=10&offset=10"),
        (
            {"limit": "11235", "offset": 50},
            list(range(51, 66)),
            "?limit=15&offset=35",
            "?limit=15&offset=65",
        ),
    ],
)
def test_limit_offset_pages_and_links(
    module: ModuleType,
    query: dict[str, Any],
    results: list[int],
    previous: str | None,
    next_: str | None,
) -> None:
    paginator = _limits(module)
    assert list(paginator.paginate_queryset(range(1, 101), _request(query))) == results
    assert paginator.get_paginated_response(results).data == {
        "results": results,
        "previous": url(previous),
        "next": url(next_),
        "count": 100,
    }


@MODULES
def test_limit_offset_past_the_end_is_empty(module: ModuleType) -> None:
    paginator = _limits(module)
    assert paginator.paginate_queryset(range(1, 101), _request({"limit": 5, "offset": 1000})) == []
    assert paginator.get_paginated_response([]).data["count"] == 100
    assert isinstance(paginator.get_html_context(), dict)


@MODULES
def test_limit_offset_page_links(module: ModuleType) -> None:
    paginator = _limits(module)
    paginator.paginate_queryset(range(1, 101), _request({"limit": 5, "offset": 10}))
    assert paginator.get_html_context()["page_links"] == [
        _link("?limit=5", 1),
        _link("?limit=5&offset=5", 2),
        _link("?limit=5&offset=10", 3, True),
        _link("?limit=5&offset=15", 4),
        PAGE_BREAK,
        _link("?limit=5&offset=95", 20),
    ]


# -- cursors ------------------------------------------------------------------------------------


class MockObject:
    def __init__(self, created: int) -> None:
        self.created = created


class MockQuerySet:
    """DRF's test double: ordering, ``created__gt``/``__lt`` filters and slicing, in memory."""

    def __init__(self, items: list[MockObject]) -> None:
        self.items = items

    def filter(self, created__gt: Any = None, created__lt: Any = None) -> MockQuerySet:
        if created__gt is not None:
            return MockQuerySet([item for item in self.items if item.created > int(created__gt)])
        assert created__lt is not None
        return MockQuerySet([item for item in self.items if item.created < int(created__lt)])

    def order_by(self, *ordering: str) -> MockQuerySet:
        if ordering[0].startswith("-"):
            return MockQuerySet(list(reversed(self.items)))
        return self

    def __getitem__(self, sliced: slice) -> list[MockObject]:
        return self.items[sliced]


CREATED = [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 9, 9, 9, 9, 9, 9]


def _cursor(module: ModuleType, ordering: Any = "created") -> Any:
    config = {"page_size": 5, "page_size_query_param": "page_size", "max_page_size": 20}
    return type("Cursor", (module.CursorPagination,), {**config, "ordering": ordering})()


def _value(item: Any) -> Any:
    if isinstance(item, dict):
        return item["created"] if "created" in item else item["created_at"]
    return item.created


Pages = tuple[list[Any] | None, list[Any], list[Any] | None, str | None, str | None]


def _get_pages(paginator: Any, queryset: Any, url: str) -> Pages:
    """(previous page, current page, next page, previous url, next url), as DRF reads them."""

    def page(at: str) -> list[Any]:
        return [_value(item) for item in paginator.paginate_queryset(queryset, _request(url=at))]

    current = page(url)
    next_url, previous_url = paginator.get_next_link(), paginator.get_previous_link()
    next_ = None if next_url is None else page(next_url)
    previous = None if previous_url is None else page(previous_url)
    return previous, current, next_, previous_url, next_url


#: DRF's expected walk over CREATED: (previous, current, next), forward then back.
WALK = [
    (None, [1, 1, 1, 1, 1], [1, 2, 3, 4, 4]),
    ([1, 1, 1, 1, 1], [1, 2, 3, 4, 4], [4, 4, 5, 6, 7]),
    ([1, 2, 3, 4, 4], [4, 4, 5, 6, 7], [7, 7, 7, 7, 7]),
    ([4, 4, 4, 5, 6], [7, 7, 7, 7, 7], [7, 7, 7, 8, 9]),  # a paging artifact
    ([7, 7, 7, 7, 7], [7, 7, 7, 8, 9], [9, 9, 9, 9, 9]),
    ([7, 7, 7, 8, 9], [9, 9, 9, 9, 9], None),
]
WALK_BACK = [
    ([7, 7, 7, 7, 7], [7, 7, 7, 8, 9], [9, 9, 9, 9, 9]),
    ([4, 4, 5, 6, 7], [7, 7, 7, 7, 7], [8, 9, 9, 9, 9]),  # a paging artifact
    ([1, 2, 3, 4, 4], [4, 4, 5, 6, 7], [7, 7, 7, 7, 7]),
    ([1, 1, 1, 1, 1], [1, 2, 3, 4, 4], [4, 4, 5, 6, 7]),
    (None, [1, 1, 1, 1, 1], [1, 2, 3, 4, 4]),
]


def _walk(paginator: Any, queryset: Any, values: Any = lambda v: v) -> None:
    url: str | None = "/"
    previous_url: str | None = None
    for expected in WALK:
        assert url is not None
        previous, current, next_, previous_url, url = _get_pages(paginator, queryset, url)
        assert (previous, current, next_) == tuple(values(part) for part in expected)
    for expected in WALK_BACK:
        assert previous_url is not None
        previous, current, next_, previous_url, _ = _get_pages(paginator, queryset, previous_url)
        assert (previous, current, next_) == tuple(values(part) for part in expected)
    assert isinstance(paginator.to_html(), str)


@pytest.fixture
def created_values(db: None) -> datetime.datetime:
    """The CREATED sequence as rows: ``price`` carries the integer, ``created_at`` a time."""
    start = timezone.now().replace(microsecond=0)
    for index, created in enumerate(CREATED):
        Product.objects.create(name=f"p{index:02}", price=created)
    for index, product in enumerate(Product.objects.order_by("id")):
        Product.objects.filter(pk=product.pk).update(
            created_at=start + datetime.timedelta(days=CREATED[index])
        )
    return start


@MODULES
def test_cursor_walk_over_a_mock_queryset(module: ModuleType) -> None:
    _walk(_cursor(module), MockQuerySet([MockObject(value) for value in CREATED]))


@MODULES
@pytest.mark.django_db
def test_cursor_walk_over_values_with_an_integer_ordering(
    module: ModuleType, created_values: Any
) -> None:
    queryset = Product.objects.annotate(created=Cast("price", IntegerField())).values("created")
    _walk(_cursor(module), queryset)


@MODULES
@pytest.mark.django_db
def test_cursor_walk_with_a_datetime_ordering(module: ModuleType, created_values: Any) -> None:
    start = created_values
    days = lambda part: None if part is None else [start + datetime.timedelta(days=d) for d in part]  # noqa: E731
    _walk(_cursor(module, "created_at"), Product.objects.values("created_at"), days)


@MODULES
@pytest.mark.parametrize(
    ("page_size", "first", "next_"),
    [
        (
            "15",
            [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 5, 6, 7],
            [7, 7, 7, 7, 7, 7, 7, 7, 8, 9, 9, 9, 9, 9, 9],
        ),
        ("30", CREATED[:20], CREATED[20:]),  # capped at max_page_size
        ("0", CREATED[:5], [1, 2, 3, 4, 4]),  # invalid: the default size
        ("-5", CREATED[:5], [1, 2, 3, 4, 4]),
    ],
)
def test_cursor_page_size_parameter(
    module: ModuleType, page_size: str, first: list[int], next_: list[int]
) -> None:
    queryset = MockQuerySet([MockObject(value) for value in CREATED])
    _, current, following, _, _ = _get_pages(_cursor(module), queryset, f"/?page_size={page_size}")
    assert current == first
    assert following == next_


@MODULES
@pytest.mark.parametrize("direction", ["next", "previous"])
def test_cursor_page_past_the_rows_is_empty(module: ModuleType, direction: str) -> None:
    # DRF's "current page empty" cases: a cursor past the last row (or before the first).
    queryset = MockQuerySet([MockObject(value) for value in CREATED])
    paginator = _cursor(module)
    paginator.base_url = "http://testserver/"
    encoded = paginator.encode_cursor(
        drf_pagination.Cursor(
            offset=0,
            reverse=direction == "previous",
            # drf-stubs type the position as int; DRF's cursors carry strings
            position="9" if direction == "next" else "1",  # type: ignore[arg-type]
        )
    )
    page = paginator.paginate_queryset(queryset, _request(url=encoded))
    assert page == []
    assert (paginator.get_next_link() is None) == (direction == "next")
    assert (paginator.get_previous_link() is None) == (direction == "previous")


@MODULES
def test_cursor_invalid_cursor_raises_not_found(module: ModuleType) -> None:
    queryset = MockQuerySet([MockObject(value) for value in CREATED])
    with pytest.raises(exceptions.NotFound):
        _cursor(module).paginate_queryset(queryset, _request({"cursor": "123"}))


class OrderedView:
    filter_backends = (filters.OrderingFilter,)
    ordering_fields = ["username", "created"]
    ordering = "created"


@MODULES
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"ordering": "username"}, ("username",)),
        ({"ordering": "-username"}, ("-username",)),
        ({"ordering": "invalid"}, ("created",)),
        ({}, ("created",)),
    ],
)
def test_cursor_ordering_comes_from_the_ordering_filter(
    module: ModuleType, query: dict[str, str], expected: tuple[str, ...]
) -> None:
    # DRF's test passes a plain list as the queryset here.
    assert _cursor(module).get_ordering(_request(query), [], OrderedView()) == expected


class UnorderedView:
    filter_backends = (filters.OrderingFilter,)
    ordering_fields = ["username", "created"]


@MODULES
def test_cursor_ordering_without_a_view_default_is_the_paginators(module: ModuleType) -> None:
    assert _cursor(module).get_ordering(_request(), [], UnorderedView()) == ("created",)
