"""``PostFetch``: attach related rows to already-fetched items in one query.

``prefetch_related`` cannot say "the latest review of each product" without
loading every review. A ``PostFetch`` asks for exactly that: one query for the
whole page, filtered to the page's keys, with the per-item ``limit`` applied in
SQL by a ``ROW_NUMBER()`` window partitioned by the join key(s).

Building and compiling that query through the ORM costs several times what the
database takes to run it, so it is compiled once per shape (the base queryset's
query, ``values``, ``order_by``, ``limit``, the joins), database alias, number of
keys and time zone (a plan, see ``restflow._postfetch_plan``), and afterwards a
call only binds the page's key values. Plans are shared by every ``PostFetch`` of
the same shape: one built inside a view's ``get()`` on every request reuses the
plan the first request compiled.
"""

from __future__ import annotations

import functools
import keyword
import operator
import pickle
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any, Generic, cast, overload

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import F, Model, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from typing_extensions import TypeVar

from restflow._bridge import in_thread
from restflow._introspect import replaces
from restflow._postfetch_plan import Key as _Key
from restflow._postfetch_plan import Plan, Unplannable, compile_plan

__all__ = ["PostFetch"]

M = TypeVar("M", bound=Model)
#: The type of one attached row: a model instance, or a dict of ``values``.
Row = TypeVar("Row", default=dict[str, Any])

# Private names for the columns restflow adds to the query; stripped from rows.
_PRIVATE = "_restflow_"
_KEY = _PRIVATE + "key{}"
_RANK = _PRIVATE + "rank"
#: Compiled plans kept (a paginated list needs two per shape and database).
_MAX_PLANS = 256
#: (shape, alias, number of keys, time zone) -> plan, or None where the ORM runs the query.
#: Plans are immutable and the dict is only ever read, set or cleared whole (each atomic),
#: so threads share it without a lock; two threads may both compile a missing plan, and
#: either result is the same.
_PLANS: dict[tuple[Hashable, ...], Plan | None] = {}


def _sequence_of_str(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(
            f"PostFetch({name}=...) takes a list of field names, got {value!r}; "
            f'write {name}=["{value}"] for a single field.'
            if isinstance(value, str)
            else f"PostFetch({name}=...) takes a list of field names, got {value!r}."
        )
    fields = tuple(value)
    for field in fields:
        if not isinstance(field, str) or not field:
            raise TypeError(f"PostFetch({name}=...) holds {field!r}; field names are strings.")
    return fields


class PostFetch(Generic[Row]):
    """Attach related rows to base items (dicts or model instances) in one query per call.

    ``PostFetch(queryset=Review.objects.all(), to_attr="latest_review",
    values=["id", "rating"], order_by=["-created_at"], limit=1, product_id="id")``
    sets ``item.latest_review`` (or ``item["latest_review"]``) on every base
    item to its newest review as ``{"id": ..., "rating": ...}``, or None.

    - Each extra keyword joins ``<related_field>="<base_field>"``: a related row
      belongs to a base item when every related field equals the item's base
      field. Several keywords join on several keys.
    - ``limit=1`` attaches one row or None; ``limit=N`` a list of at most N rows;
      ``limit=None`` every related row. ``order_by`` picks which rows come first
      (default: the queryset's ordering, else the model's, else the primary key).
    - ``values`` makes rows dicts of those fields; without it rows are model
      instances, and ``PostFetch(queryset=Review.objects.all(), ...)`` is a
      ``PostFetch[Review]``. Name a TypedDict for dict rows:
      ``PostFetch[ReviewRow](..., values=[...])``.

    Instances are immutable and safe to share between requests and threads.
    The query is compiled once per shape (base queryset, ``values``,
    ``order_by``, ``limit``, joins), database alias and number of keys, for
    every ``PostFetch`` of that shape, so one built at module level and one
    built in each request cost the same; a call only binds the key values. Pass them to
    ``serialized_response``/``paginated_response`` (and their async twins) as
    ``post_fetches=[...]``, or call :meth:`fetch` / :meth:`afetch` yourself.
    """

    @overload
    def __init__(
        self: PostFetch[M],
        *,
        queryset: QuerySet[M, M],
        to_attr: str,
        values: None = None,
        order_by: Sequence[str] = (),
        limit: int | None = 1,
        **joins: str,
    ) -> None: ...
    @overload
    def __init__(
        self,
        *,
        queryset: QuerySet[Model, object],
        to_attr: str,
        values: Sequence[str],
        order_by: Sequence[str] = (),
        limit: int | None = 1,
        **joins: str,
    ) -> None: ...
    def __init__(
        self,
        *,
        queryset: QuerySet[Model, object],
        to_attr: str,
        values: Sequence[str] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = 1,
        **joins: str,
    ) -> None:
        if not isinstance(queryset, QuerySet):
            raise TypeError(
                f"PostFetch(queryset=...) must be a QuerySet, got {type(queryset).__name__}; "
                "pass e.g. Review.objects.all()."
            )
        if queryset.query.is_sliced:
            raise ImproperlyConfigured(
                "PostFetch(queryset=...) must not be sliced; use limit= for a per-item limit."
            )
        if not isinstance(to_attr, str) or not to_attr.isidentifier() or keyword.iskeyword(to_attr):
            raise ImproperlyConfigured(
                f"PostFetch(to_attr={to_attr!r}) must be a Python identifier: the attribute "
                'or key set on each item, e.g. to_attr="latest_review".'
            )
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise TypeError(f"PostFetch(limit={limit!r}) must be a positive int or None.")
        if limit is not None and limit < 1:
            raise ImproperlyConfigured(
                f"PostFetch(limit={limit}) must be at least 1, or None for every related row."
            )
        if not joins:
            raise ImproperlyConfigured(
                'PostFetch needs at least one join: pass <related_field>="<base_field>", '
                'e.g. PostFetch(..., product_id="id") to match Review.product_id to each '
                "item's id."
            )
        for related, base in joins.items():
            if not isinstance(base, str) or not base:
                raise TypeError(
                    f"PostFetch({related}={base!r}): the join value names the base item's "
                    f'field as a string, e.g. {related}="id".'
                )
        self._queryset: QuerySet[Model, object] = queryset
        self._to_attr = to_attr
        self._values = None if values is None else _sequence_of_str("values", values)
        self._order_by = _sequence_of_str("order_by", order_by)
        self._limit = limit
        self._related = tuple(joins)
        self._base = tuple(joins.values())
        self._shape_key: Hashable | None = None  # see _shape_of(), computed on first use

    def __repr__(self) -> str:
        joins = ", ".join(f"{r}={b!r}" for r, b in zip(self._related, self._base, strict=True))
        return (
            f"PostFetch({self._queryset.model.__name__}, to_attr={self._to_attr!r}, "
            f"limit={self._limit!r}, {joins})"
        )

    @property
    def to_attr(self) -> str:
        """The attribute (or dict key) set on each base item."""
        return self._to_attr

    @property
    def limit(self) -> int | None:
        """Rows per item: 1 attaches a row or None, N a list, None every row."""
        return self._limit

    # -- the query ---------------------------------------------------------------

    def get_queryset(self, keys: Sequence[_Key]) -> QuerySet[Model, object]:
        """The one query for ``keys`` (distinct join-key tuples, in join order).

        The default filters the configured queryset to the keys, ranks rows per
        key with ``ROW_NUMBER()`` and keeps ``limit`` of them, then selects
        ``values`` (or instances) plus the key columns. :meth:`fetch` runs this
        query compiled once per shape, database alias and number of keys, binding only
        the key values, and calls the method itself only when the ORM must build
        the rows (e.g. a base queryset with ``prefetch_related``).

        Override to change the query (passing a queryset with ``select_related``,
        filters or annotations needs no override); keep it lazy (it is evaluated
        in a worker thread). An override is called, and its queryset built and
        compiled, on every fetch.
        """
        return self._shape(self._queryset.filter(self._key_filter(keys)))

    def _key_filter(self, keys: Sequence[_Key]) -> Q:
        if len(self._related) == 1:
            return Q(**{f"{self._related[0]}__in": [key[0] for key in keys]})
        matches = (Q(**dict(zip(self._related, key, strict=True))) for key in keys)
        return functools.reduce(operator.or_, matches)

    def _shape(self, queryset: QuerySet[Model, object]) -> QuerySet[Model, object]:
        """Rank and limit, order, and select the rows of a queryset filtered to the keys."""
        ordering = self._ordering(queryset)
        if self._limit is not None:
            rank = Window(
                RowNumber(),
                partition_by=[F(field) for field in self._related],
                order_by=list(ordering),
            )
            queryset = queryset.annotate(**{_RANK: rank}).filter(**{f"{_RANK}__lte": self._limit})
        queryset = queryset.order_by(*ordering)
        key_columns = {_KEY.format(i): F(field) for i, field in enumerate(self._related)}
        if self._values is not None:
            return cast("QuerySet[Model, object]", queryset.values(*self._values, **key_columns))
        return cast("QuerySet[Model, object]", queryset.annotate(**key_columns))

    def _ordering(self, queryset: QuerySet[Model, object]) -> Sequence[Any]:
        if self._order_by:
            return self._order_by
        if queryset.query.order_by:
            return tuple(queryset.query.order_by)
        return tuple(queryset.model._meta.ordering or ()) or ("pk",)

    def _shape_of(self) -> Hashable:
        """What the compiled query depends on besides the alias, key count and time zone.

        The base query is keyed by its pickled state, so two equal querysets built
        apart (``Review.objects.filter(...)`` in each request) share one plan. A query
        that cannot be pickled (a lambda in it, say) is keyed by this instance alone.
        """
        if self._shape_key is None:
            queryset = self._queryset
            try:
                query: Hashable = pickle.dumps(queryset.query, pickle.HIGHEST_PROTOCOL)
            except Exception:  # any failure to pickle: a key of its own
                query = _Unshared()
            self._shape_key = (
                type(self),
                type(queryset),
                queryset.model,
                query,
                queryset._iterable_class,
                queryset._fields,  # type: ignore[attr-defined]  # private QuerySet state, not in the stubs
                getattr(queryset, "_fetch_mode", None),  # Django 6's fetch modes
                self._values,
                self._order_by,
                self._limit,
                self._related,
            )
        return self._shape_key

    def _plan(self, alias: str, count: int) -> Plan | None:
        cache_key = (
            self._shape_of(),
            alias,
            count,
            # Datetime functions compile the current time zone into the SQL.
            timezone.get_current_timezone_name() if settings.USE_TZ else None,
        )
        try:
            return _PLANS[cache_key]
        except KeyError:
            pass
        plan = compile_plan(
            self._queryset,
            self._shape,
            self._related,
            count,
            alias,
            key_names=[_KEY.format(i) for i in range(len(self._related))],
            hidden=_PRIVATE,
        )
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()  # unpaginated lists of ever-new sizes, or new shapes: start over
        _PLANS[cache_key] = plan
        return plan

    def _rows(self, keys: Sequence[_Key]) -> Iterator[tuple[_Key, Any]]:
        """(key, row) for each related row of ``keys``, in order; one query."""
        if not replaces(type(self), PostFetch, "get_queryset"):
            alias = self._queryset.db
            plan = self._plan(alias, len(keys))
            if plan is not None and plan.sql is None:
                return iter(())
            if plan is not None:
                try:
                    params = plan.bind(keys, connections[alias])
                except Unplannable:
                    pass  # a model instance or an expression as a key value
                else:
                    return plan.rows(alias, params)
        return ((self._pop_key(row), row) for row in self.get_queryset(keys))

    # -- fetching ----------------------------------------------------------------

    def fetch(self, items: Sequence[Any]) -> None:
        """Attach the related rows to ``items`` with one query (none if ``items`` is empty).

        Blocks on the database: on the event loop use :meth:`afetch`.
        """
        if isinstance(items, QuerySet):
            items = list(items)  # the result cache: later iteration sees these objects
        if not items:
            return
        item_keys = [self._key_of(item) for item in items]
        wanted = list(dict.fromkeys(key for key in item_keys if None not in key))
        grouped: dict[_Key, list[Any]] = {}
        if wanted:
            for key, row in self._rows(wanted):
                grouped.setdefault(key, []).append(row)
        for item, key in zip(items, item_keys, strict=True):
            self._attach(item, grouped.get(key, []))

    async def afetch(self, items: Sequence[Any]) -> None:
        """Async twin of :meth:`fetch`: the query runs in one worker-thread hop.

        A lazy queryset passed as ``items`` is evaluated in that hop too, never
        on the event loop. No hop at all for an empty list.
        """
        if not isinstance(items, QuerySet) and not items:
            return
        await in_thread(self.fetch, items)

    def _key_of(self, item: object) -> _Key:
        if isinstance(item, (dict, Mapping)):
            try:
                return tuple([item[field] for field in self._base])
            except KeyError as missing:
                raise ImproperlyConfigured(
                    f"PostFetch({self._to_attr!r}): a base item has no key {missing}; "
                    "fetch it with the base rows (add it to their values())."
                ) from None
        try:
            return tuple([getattr(item, field) for field in self._base])
        except AttributeError as missing:
            raise ImproperlyConfigured(
                f"PostFetch({self._to_attr!r}): {type(item).__name__} has no attribute "
                f"{missing.name!r} to join on; check the <related_field>=<base_field> kwargs."
            ) from None

    def _pop_key(self, row: object) -> _Key:
        names = [_KEY.format(i) for i in range(len(self._related))]
        if isinstance(row, dict):
            row.pop(_RANK, None)  # there when the base queryset has values() of its own
            return tuple(row.pop(name) for name in names)
        key = tuple(getattr(row, name) for name in names)
        for name in (*names, _RANK):
            row.__dict__.pop(name, None)
        return key

    def _attach(self, item: object, rows: list[Any]) -> None:
        value: Any = (rows[0] if rows else None) if self._limit == 1 else rows
        if isinstance(item, dict):
            item[self._to_attr] = value
        else:
            setattr(item, self._to_attr, value)

    # -- reading what was attached (typed) ------------------------------------

    def row_for(self, item: object) -> Row | None:
        """The first row attached to ``item`` (None if it has none)."""
        rows = self.rows_for(item)
        return rows[0] if rows else None

    def rows_for(self, item: object) -> list[Row]:
        """Every row attached to ``item``, as a list whatever the ``limit``.

        Raises ``AttributeError``/``KeyError`` if ``item`` was not fetched.
        """
        value = item[self._to_attr] if isinstance(item, Mapping) else getattr(item, self._to_attr)
        if self._limit == 1:
            return [] if value is None else [cast(Row, value)]
        return cast("list[Row]", value)


class _Unshared:
    """Stands for a query that cannot be pickled: equal to nothing but itself."""

    __slots__ = ()
