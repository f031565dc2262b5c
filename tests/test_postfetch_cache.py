"""``PostFetch`` compiles its query once per shape, database alias and key count, then binds keys.

The plans are shared by every ``PostFetch`` of one shape, so each test starts with none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F, Model, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.sql.compiler import SQLCompiler
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from restflow import _postfetch, _postfetch_plan
from restflow.views import PostFetch
from tests.testapp.models import Category, Product, Review

pytestmark = [pytest.mark.django_db]

_Key = tuple[Any, ...]


@pytest.fixture
def catalog() -> list[Product]:
    """Six products with 0..5 reviews; rating i on the i-th review."""
    products = [Product.objects.create(name=f"p{i}", price=Decimal(i)) for i in range(6)]
    for count, product in enumerate(products):
        for rating in range(count):
            Review.objects.create(
                product=product, rating=rating, comment=f"{product.name}-{rating}"
            )
    return products


class _OrmPath(PostFetch[Any]):
    """Overrides ``get_queryset``, so every call builds and compiles it through the ORM."""

    def get_queryset(self, keys: Any) -> QuerySet[Any, Any]:
        return super().get_queryset(keys)


def _twins(**kwargs: Any) -> tuple[PostFetch[Any], PostFetch[Any]]:
    """A PostFetch and the same one forced down the ORM path (the reference)."""
    return PostFetch(**kwargs), _OrmPath(**kwargs)


@pytest.fixture(autouse=True)
def no_plans(monkeypatch: pytest.MonkeyPatch) -> dict[Any, Any]:
    """The shared plan cache, empty for this test."""
    plans: dict[Any, Any] = {}
    monkeypatch.setattr(_postfetch, "_PLANS", plans)
    return plans


def _snapshot(value: Any) -> Any:
    """What was attached, comparable: model instances become (class, state, fields).

    The state includes Django 6's fetch mode and how many peers were fetched along.
    """
    if isinstance(value, list):
        return [_snapshot(row) for row in value]
    if isinstance(value, Model):
        fields = {name: field for name, field in vars(value).items() if name != "_state"}
        state = value._state
        peers = len(getattr(state, "peers", ()))
        return (
            type(value),
            state.db,
            state.adding,
            getattr(state, "fetch_mode", None),
            peers,
            fields,
        )
    return value


def _attached(post_fetch: PostFetch[Any], items: list[Any]) -> list[Any]:
    return [_snapshot(post_fetch.rows_for(item)) for item in items]


def _same_as_orm(post_fetch: PostFetch[Any], reference: PostFetch[Any], items: list[Any]) -> None:
    expected = [dict(item) for item in items]
    reference.fetch(expected)
    with CaptureQueriesContext(connection) as queries:
        post_fetch.fetch(items)
    assert len(queries) == 1
    assert _attached(post_fetch, items) == _attached(reference, expected)


class _Counter:
    def __init__(self) -> None:
        self.calls = 0


def _count_calls(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, original: Callable[..., Any]
) -> _Counter:
    """Replace ``owner.name`` by ``original`` counted."""
    counter = _Counter()

    def counting(*args: Any, **kwargs: Any) -> Any:
        counter.calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return counter


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    """Counts ``SQLCompiler.as_sql`` calls (every SELECT the ORM compiles)."""
    return _count_calls(monkeypatch, SQLCompiler, "as_sql", SQLCompiler.as_sql)


@pytest.fixture
def plan_builds(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    """Counts the plans PostFetch compiles."""
    return _count_calls(monkeypatch, _postfetch, "compile_plan", _postfetch_plan.compile_plan)


def _run(kind: str, post_fetch: PostFetch[Any], items: list[Any]) -> None:
    if kind == "sync":
        post_fetch.fetch(items)
    else:
        async_to_sync(post_fetch.afetch)(items)


def _ids(products: list[Product]) -> list[dict[str, Any]]:
    return [{"id": product.pk} for product in products]


# -- the plan is compiled once and reused ------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("values", [["id", "rating"], None])
def test_the_second_call_reuses_the_compiled_query(
    catalog: list[Product], compiles: _Counter, kind: str, values: list[str] | None
) -> None:
    post_fetch = PostFetch[Any](
        queryset=Review.objects.all(), to_attr="top", values=values, limit=2, product_id="id"
    )
    first, second = _ids(catalog[:3]), _ids(catalog[3:])
    _run(kind, post_fetch, first)
    assert compiles.calls > 0
    compiles.calls = 0
    with CaptureQueriesContext(connection) as queries:
        _run(kind, post_fetch, second)
    assert compiles.calls == 0  # instance rows too, on Django 5.2 and 6
    assert len(queries) == 1
    reference = _OrmPath(
        queryset=Review.objects.all(), to_attr="top", values=values, limit=2, product_id="id"
    )
    expected = _ids(catalog[3:])
    reference.fetch(expected)
    assert _attached(post_fetch, second) == _attached(reference, expected)


def _latest(minimum: int, values: list[str] | None) -> dict[str, Any]:
    """What a view builds inside get() on every request: a fresh queryset and PostFetch."""
    return {
        "queryset": Review.objects.filter(rating__gte=minimum).select_related("product"),
        "to_attr": "top",
        "values": values,
        "order_by": ["-rating"],
        "limit": 1,
        "product_id": "id",
    }


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("values", [["id", "rating"], None])
def test_a_post_fetch_built_per_request_compiles_once(
    catalog: list[Product],
    plan_builds: _Counter,
    compiles: _Counter,
    kind: str,
    values: list[str] | None,
) -> None:
    pages = [catalog[0:3], catalog[3:6], catalog[1:4], catalog[2:5]]
    reference = _OrmPath(**_latest(1, values))
    expected = [_ids(page) for page in pages]
    for items in expected:
        reference.fetch(items)
    compiles.calls = 0
    for number, page in enumerate(pages):
        post_fetch = PostFetch[Any](**_latest(1, values))  # a new one per request
        items = _ids(page)
        with CaptureQueriesContext(connection) as queries:
            _run(kind, post_fetch, items)
        assert len(queries) == 1
        assert _attached(post_fetch, items) == _attached(reference, expected[number])
        if number == 0:
            assert compiles.calls > 0
            compiles.calls = 0
    assert plan_builds.calls == 1
    assert compiles.calls == 0


def test_each_shape_gets_its_own_plan(catalog: list[Product], plan_builds: _Counter) -> None:
    for minimum in (1, 3, 1, 3):
        post_fetch, reference = (
            PostFetch[Any](**_latest(minimum, ["rating"])),
            _OrmPath(**_latest(minimum, ["rating"])),
        )
        _same_as_orm(post_fetch, reference, _ids(catalog))
    assert plan_builds.calls == 2  # rating >= 1, rating >= 3


def test_a_query_that_cannot_be_pickled_keeps_a_plan_of_its_own(
    catalog: list[Product], plan_builds: _Counter
) -> None:
    class Local(str):  # a local class: pickle cannot find it by name
        __slots__ = ()

    def shape() -> dict[str, Any]:
        return {**_latest(0, ["comment"]), "queryset": Review.objects.exclude(comment=Local("x"))}

    first, second = PostFetch[Any](**shape()), PostFetch[Any](**shape())
    for post_fetch in (first, first, second):
        _same_as_orm(post_fetch, _OrmPath(**shape()), _ids(catalog))
    assert plan_builds.calls == 2  # once per instance


@pytest.mark.parametrize("values", [["id"], None])
def test_rows_build_one_instance_each_and_no_more(
    catalog: list[Product], monkeypatch: pytest.MonkeyPatch, values: list[str] | None
) -> None:
    built: list[type[Model]] = []
    original = Model.from_db.__func__  # type: ignore[attr-defined]  # a classmethod's function

    def counting(cls: type[Model], *args: Any, **kwargs: Any) -> Model:
        built.append(cls)
        return cast(Model, original(cls, *args, **kwargs))

    monkeypatch.setattr(Model, "from_db", classmethod(counting))
    post_fetch = PostFetch[Any](**_latest(0, values))
    items = _ids(catalog[:4])  # 0, 1, 2 and 3 reviews: three rows attached
    post_fetch.fetch(items)
    attached = [post_fetch.row_for(item) for item in items]
    assert sum(row is not None for row in attached) == 3
    # Instance rows: each review and its select_related product; dict rows: none.
    assert built == ([] if values is not None else [Review, Product] * 3)


def test_a_get_queryset_override_is_built_and_compiled_on_every_call(
    catalog: list[Product], compiles: _Counter
) -> None:
    seen: list[list[_Key]] = []

    class WithProduct(PostFetch[Review]):
        def get_queryset(self, keys: Any) -> QuerySet[Any, Any]:
            seen.append(list(keys))
            return super().get_queryset(keys).select_related("product")

    post_fetch = WithProduct(queryset=Review.objects.all(), to_attr="top", product_id="id")
    for products in (catalog[1:3], catalog[3:5]):
        products = list(Product.objects.filter(pk__in=[p.pk for p in products]))
        compiles.calls = 0
        post_fetch.fetch(products)
        assert compiles.calls > 0
        with CaptureQueriesContext(connection) as queries:
            assert [post_fetch.row_for(p).product.name for p in products] == [  # type: ignore[union-attr]  # every product has a review
                p.name for p in products
            ]
        assert len(queries) == 0  # select_related by the override
    assert seen == [[(p.pk,) for p in catalog[1:3]], [(p.pk,) for p in catalog[3:5]]]


# -- the same rows as the ORM would give ---------------------------------------------------


@pytest.mark.parametrize("values", [["id", "comment"], None])
@pytest.mark.parametrize("limit", [1, 2, None])
def test_every_key_count_gets_the_rows_the_orm_gives(
    catalog: list[Product], values: list[str] | None, limit: int | None
) -> None:
    post_fetch, reference = _twins(
        queryset=Review.objects.all(),
        to_attr="top",
        values=values,
        order_by=["-rating"],
        limit=limit,
        product_id="id",
    )
    for size in (1, 2, 6, 3, 2, 1, 5):
        items = [{"id": product.pk} for product in catalog[-size:]]
        _same_as_orm(post_fetch, reference, items)


@pytest.mark.parametrize("values", [["id"], None])
def test_several_join_keys_are_bound_in_join_order(
    catalog: list[Product], values: list[str] | None
) -> None:
    post_fetch, reference = _twins(
        queryset=Review.objects.all(),
        to_attr="match",
        values=values,
        limit=None,
        # Not in alphabetical order, and of different types: each value is prepared by
        # its own column's field.
        rating="wanted",
        product_id="id",
        comment="label",
    )
    for wanted in ((2, 3, 4), (0, 9, 1), (1, 1, 1), (4, 0)):  # p3..p5 have ratings 0..2/3/4
        products = catalog[3 : 3 + len(wanted)]
        items = [
            {"id": p.pk, "wanted": r, "label": f"{p.name}-{r}"}
            for p, r in zip(products, wanted, strict=True)
        ]
        _same_as_orm(post_fetch, reference, items)
        found = [len(post_fetch.rows_for(item)) for item in items]
        assert found == [int(r <= 2 + i) for i, r in enumerate(wanted)]


def test_a_base_queryset_with_filters_and_annotations_is_honoured(catalog: list[Product]) -> None:
    base = Review.objects.filter(rating__gte=2).annotate(double=F("rating") * 2)
    dicts, dict_reference = _twins(
        queryset=base, to_attr="top", values=["comment", "double"], limit=2, product_id="id"
    )
    instances, instance_reference = _twins(queryset=base, to_attr="top", limit=2, product_id="id")
    for products in (catalog[:3], catalog[3:]):
        _same_as_orm(dicts, dict_reference, _ids(products))
        _same_as_orm(instances, instance_reference, _ids(products))
    items = _ids(catalog[4:5])
    instances.fetch(items)
    assert [(r.rating, r.double) for r in instances.rows_for(items[0])] == [(2, 4), (3, 6)]


def test_a_values_base_queryset_gives_dict_rows_like_the_orm(catalog: list[Product]) -> None:
    post_fetch, reference = _twins(
        queryset=Review.objects.values("id", "comment"), to_attr="top", limit=2, product_id="id"
    )
    for products in (catalog[:3], catalog[3:]):
        _same_as_orm(post_fetch, reference, _ids(products))
    items = _ids(catalog[2:3])
    post_fetch.fetch(items)
    assert post_fetch.rows_for(items[0]) == [
        {"id": review.pk, "comment": review.comment} for review in catalog[2].reviews.all()
    ]


def test_instances_are_hydrated_like_the_orm_does(catalog: list[Product]) -> None:
    base = Review.objects.select_related("product").only("id", "rating", "product__name")
    post_fetch, reference = _twins(queryset=base, to_attr="top", limit=None, product_id="id")
    _same_as_orm(post_fetch, reference, _ids(catalog))
    items = _ids(catalog[2:3])
    post_fetch.fetch(items)
    review = post_fetch.rows_for(items[0])[0]
    assert isinstance(review, Review)
    assert (review._state.db, review._state.adding) == (DEFAULT_DB_ALIAS, False)
    assert review.get_deferred_fields() == {"comment", "created_at"}
    with CaptureQueriesContext(connection) as queries:
        assert review.product.name == "p2"
    assert len(queries) == 0
    assert not [name for name in vars(review) if name.startswith("_restflow")]


def test_an_empty_base_queryset_sends_no_query(catalog: list[Product]) -> None:
    post_fetch = PostFetch(queryset=Review.objects.none(), to_attr="top", limit=3, product_id="id")
    for _ in range(2):
        items = _ids(catalog)
        with CaptureQueriesContext(connection) as queries:
            post_fetch.fetch(items)
        assert len(queries) == 0
        assert [item["top"] for item in items] == [[]] * len(catalog)


def test_a_prefetching_base_queryset_still_prefetches(catalog: list[Product]) -> None:
    post_fetch = PostFetch(
        queryset=Review.objects.prefetch_related("product"), to_attr="top", product_id="id"
    )
    items = _ids(catalog[1:])
    with CaptureQueriesContext(connection) as queries:
        post_fetch.fetch(items)
        names = [post_fetch.row_for(item).product.name for item in items]  # type: ignore[union-attr]  # every product has a review
    assert len(queries) == 2  # the post-fetch, then the prefetch
    assert names == [product.name for product in catalog[1:]]


def test_model_instances_as_key_values_are_resolved_like_the_orm_does(
    catalog: list[Product],
) -> None:
    post_fetch, reference = _twins(
        queryset=Review.objects.all(), to_attr="top", values=["comment"], product="product"
    )
    for products in (catalog[:3], catalog[3:]):
        _same_as_orm(post_fetch, reference, [{"product": product} for product in products])


def test_the_current_time_zone_is_part_of_the_compiled_query(
    catalog: list[Product], settings: Settings
) -> None:
    settings.USE_TZ = True
    Review.objects.filter(product=catalog[1]).update(
        created_at=datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
    )
    post_fetch = PostFetch(
        queryset=Review.objects.annotate(day=TruncDate("created_at")),
        to_attr="top",
        values=["day"],
        product_id="id",
    )
    days = []
    for zone in ("UTC", "Asia/Tokyo", "UTC"):
        items = _ids(catalog[1:2])
        with timezone.override(zone):
            post_fetch.fetch(items)
        days.append(items[0]["top"]["day"])
    assert days == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 1)]


def test_the_plan_cache_is_bounded(catalog: list[Product], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_postfetch, "_MAX_PLANS", 2)
    post_fetch, reference = _twins(
        queryset=Review.objects.all(), to_attr="top", values=["id"], product_id="id"
    )
    for size in range(1, 7):
        _same_as_orm(post_fetch, reference, _ids(catalog[:size]))
        assert len(_postfetch._PLANS) <= 2


# -- per database alias --------------------------------------------------------------------


class _ReadFrom:
    """A database router: reads go to ``alias`` (switched by the test)."""

    alias = DEFAULT_DB_ALIAS

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return _ReadFrom.alias


@pytest.fixture
def other_db(settings: Settings) -> Iterator[str]:
    """A second database (SQLite in memory, whatever the default is) with the test tables.

    Registered on this thread only, as a dynamically created connection, so Django's
    test case does not need to know the alias in advance.
    """
    alias = "postfetch_other"
    configured = connections.configure_settings(
        {DEFAULT_DB_ALIAS: {}, alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    other = load_backend("django.db.backends.sqlite3").DatabaseWrapper(configured[alias], alias)
    connections[alias] = other
    try:
        with other.schema_editor() as editor:
            for model in (User, Category, Product, Review):  # Product's foreign keys need theirs
                editor.create_model(model)
        settings.DATABASE_ROUTERS = [_ReadFrom()]
        yield alias
    finally:
        _ReadFrom.alias = DEFAULT_DB_ALIAS
        other.close()
        del connections[alias]


@pytest.mark.parametrize("values", [["comment"], None])
def test_each_database_alias_gets_its_own_plan_and_rows(
    other_db: str, compiles: _Counter, values: list[str] | None
) -> None:
    rows: dict[str, list[Product]] = {}
    for alias in (DEFAULT_DB_ALIAS, other_db):
        rows[alias] = []
        for i in range(2):
            product = Product.objects.using(alias).create(name=f"{alias}-{i}", price=Decimal(i))
            Review.objects.using(alias).create(product=product, rating=i, comment=f"{alias}-{i}")
            rows[alias].append(product)
    post_fetch = PostFetch[Any](
        queryset=Review.objects.all(), to_attr="top", values=values, product_id="id"
    )

    def comments(alias: str) -> list[str]:
        _ReadFrom.alias = alias
        items = _ids(rows[alias])
        post_fetch.fetch(items)
        attached = [post_fetch.row_for(item) for item in items]
        if values is None:
            assert {review._state.db for review in attached} == {alias}  # type: ignore[union-attr]  # every product has a review
            return [review.comment for review in attached]  # type: ignore[union-attr]  # every product has a review
        return [row["comment"] for row in attached]  # type: ignore[index]  # every product has a review

    assert comments(DEFAULT_DB_ALIAS) == [f"{DEFAULT_DB_ALIAS}-0", f"{DEFAULT_DB_ALIAS}-1"]
    assert comments(other_db) == [f"{other_db}-0", f"{other_db}-1"]
    compiles.calls = 0
    assert comments(DEFAULT_DB_ALIAS) == [f"{DEFAULT_DB_ALIAS}-0", f"{DEFAULT_DB_ALIAS}-1"]
    assert comments(other_db) == [f"{other_db}-0", f"{other_db}-1"]
    assert compiles.calls == 0
    assert {alias for _, alias, _, _ in _postfetch._PLANS} == {DEFAULT_DB_ALIAS, other_db}


# -- threads ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("values", [["comment"], None])
def test_concurrent_fetches_share_the_plan_and_get_their_own_rows(
    catalog: list[Product], values: list[str] | None
) -> None:
    post_fetch = PostFetch[Any](
        queryset=Review.objects.all(),
        to_attr="top",
        values=values,
        order_by=["-rating"],
        product_id="id",
    )
    pages = [catalog[0:3], catalog[3:6]]  # same size: both threads use one plan
    expected = [[None, "p1-0", "p2-1"], ["p3-2", "p4-3", "p5-4"]]
    in_flight = threading.Barrier(2, timeout=10)

    def both_at_once(execute: Callable[..., Any], *args: Any) -> Any:
        in_flight.wait()  # each thread has bound its keys; run the two queries together
        return execute(*args)

    def fetch(page: list[Product]) -> list[str | None]:
        try:
            items = _ids(page)
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(both_at_once):
                post_fetch.fetch(items)
            rows: list[Any] = [post_fetch.row_for(item) for item in items]
            if values is None:
                return [row.comment if row is not None else None for row in rows]
            return [row["comment"] if row is not None else None for row in rows]
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(5):  # the first round compiles (in both threads, racing)
            assert list(pool.map(fetch, pages)) == expected
    assert len(_postfetch._PLANS) == 1
