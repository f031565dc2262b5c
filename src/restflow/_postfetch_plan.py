"""A ``PostFetch`` query compiled once, run many times with new key values.

The plan's query is ``PostFetch``'s default query with one difference: the key
filter is a :class:`_KeyMatch`, which renders the SQL of the ORM's ``in`` (one
join column) or OR-ed ``exact`` lookups (several) but leaves a :class:`_Slot`
marker in the params for each key value. The plan records where the markers
are and how the ORM would prepare a value for each join column, and how to turn
rows into dicts (as ``ValuesIterable``) or instances (as ``ModelIterable``).
A call binds its key values and runs the SQL: no ORM building or compiling.

Anything the plan would not do exactly as the ORM does raises or returns
:class:`Unplannable`/None, and ``PostFetch`` runs that query through the ORM.
"""

from __future__ import annotations

import dataclasses
import inspect
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Expression, F, Model, QuerySet
from django.db.models import query as _orm_query
from django.db.models.expressions import ColPairs
from django.db.models.lookups import Exact, In, IntegerFieldExact
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

__all__ = ["Plan", "Unplannable", "compile_plan"]

Key = tuple[Hashable, ...]
#: How the ORM's plain ``in``/``exact`` lookups prepare one value for a column.
_Bind = Callable[[object, BaseDatabaseWrapper], object]
#: Lookups whose values ``_KeyMatch`` prepares the same way; other ones (custom fields,
#: JSON keys, transforms applied to the value too) keep the ORM path.
_PLAIN_LOOKUPS: dict[str, tuple[type, ...]] = {"in": (In,), "exact": (Exact, IntegerFieldExact)}
# Plan.rows mirrors ModelIterable: Django 6 gives instances a fetch mode (and, for
# FETCH_PEERS, a list of the instances fetched together); Django 5.2 has none.
_FETCH_MODES = "fetch_mode" in inspect.signature(get_related_populators).parameters
#: Django 6's model.from_db with the fetch mode bound (it accepts older overrides too).
_from_db_with: Callable[[type[Model], Any], Callable[..., Model]] | None = getattr(
    _orm_query, "_get_from_db", None
)
#: Whether instance rows come from the plan (every supported Django mirrors ModelIterable).
_MIRRORS_MODEL_ITERABLE = not _FETCH_MODES or _from_db_with is not None


class Unplannable(Exception):
    """This query (or this call's key values) takes the ORM path."""


class _Slot:
    """The place of key ``key``'s ``part``-th value in the compiled params."""

    __slots__ = ("key", "part")

    def __init__(self, key: int, part: int) -> None:
        self.key, self.part = key, part


def _binder(column: Any, lookup_name: str) -> _Bind:
    if (
        isinstance(column, ColPairs)
        or column.get_lookup(lookup_name) not in _PLAIN_LOOKUPS[lookup_name]
        or getattr(column, "get_bilateral_transforms", list)()
    ):
        raise Unplannable
    field = column.output_field
    prepare = field.get_prep_value
    # As FieldGetDbPrepValueMixin: a relation prepares with its target field.
    target = getattr(field, "target_field", None)
    prepare_for_db = getattr(target, "get_db_prep_value", None) or field.get_db_prep_value

    def bind(value: object, connection: BaseDatabaseWrapper) -> object:
        if isinstance(value, Model) or hasattr(value, "resolve_expression"):
            raise Unplannable  # the ORM resolves instances and expressions itself
        return prepare_for_db(prepare(value), connection, prepared=True)

    return bind


class _KeyMatch(Expression):
    """WHERE the join columns equal one of ``count`` keys, the values left as markers.

    Compiling it fills ``binders`` (one per column) and raises :class:`Unplannable`
    where the ORM's lookup would do more than prepare each value.
    """

    def __init__(self, names: Sequence[str], count: int, binders: list[_Bind]) -> None:
        super().__init__(output_field=BooleanField())
        self.columns: list[Any] = [F(name) for name in names]
        self.count = count
        self.binders = binders

    def get_source_expressions(self) -> list[Any]:
        return self.columns

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = list(exprs)

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lookup_name = "in" if len(self.columns) == 1 else "exact"
        self.binders[:] = [_binder(column, lookup_name) for column in self.columns]
        lhs: list[tuple[str, Sequence[Any]]] = []
        for column in self.columns:
            column_sql, column_params = compiler.compile(column)
            internal_type = column.output_field.get_internal_type()
            lhs.append(
                (connection.ops.lookup_cast(lookup_name, internal_type) % column_sql, column_params)
            )
        params: list[Any] = []
        if lookup_name == "in":
            limit = connection.ops.max_in_list_size()
            if limit and self.count > limit:
                raise Unplannable  # the ORM splits long IN lists
            params.extend(lhs[0][1])
            params.extend(_Slot(key, 0) for key in range(self.count))
            return f"{lhs[0][0]} IN ({', '.join(['%s'] * self.count)})", tuple(params)
        equals = connection.operators["exact"] % "%s"  # type: ignore[attr-defined]  # set by every backend's wrapper, not in the stubs
        branches = []
        for key in range(self.count):
            terms = []
            for part, (lhs_sql, lhs_params) in enumerate(lhs):
                terms.append(f"{lhs_sql} {equals}")
                params.extend(lhs_params)
                params.append(_Slot(key, part))
            branches.append(f"({' AND '.join(terms)})")
        return f"({' OR '.join(branches)})", tuple(params)


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """One compiled query; immutable, so threads share it."""

    sql: str | None  # None: the query can match nothing (no query is sent)
    params: tuple[Any, ...] = ()
    slots: tuple[tuple[int, int, int], ...] = ()  # (param index, key index, part)
    binders: tuple[_Bind, ...] = ()
    columns: tuple[Any, ...] = ()  # the selected expressions (for the db converters)
    width: int | None = None  # cut rows to this many columns (the ORM's extra select)
    key_at: tuple[int, ...] = ()
    fields: tuple[tuple[str, int], ...] = ()  # dict rows: (name, column)
    model: type[Model] | None = None  # instance rows
    model_columns: tuple[int, int] = (0, 0)  # where its fields are in a row
    init_list: tuple[str, ...] = ()
    populators: tuple[Any, ...] = ()  # select_related (Django 5.2: shared, stateless)
    annotations: tuple[tuple[str, int], ...] = ()
    # Django 6: populators hold the peers of one fetch, so each call builds its own.
    klass_info: Any = None
    select: tuple[Any, ...] = ()
    fetch_mode: Any = None

    def bind(self, keys: Sequence[Key], connection: BaseDatabaseWrapper) -> list[Any]:
        """The params for ``keys``; raises :class:`Unplannable` for values the ORM must see."""
        values = [
            [bind(value, connection) for bind, value in zip(self.binders, key, strict=True)]
            for key in keys
        ]
        params = list(self.params)
        for index, key, part in self.slots:
            params[index] = values[key][part]
        return params

    def rows(self, alias: str, params: list[Any]) -> Iterator[tuple[Key, Any]]:
        """Run the query on ``alias`` (this thread's connection): (key, row) per row."""
        connection = connections[alias]
        converters = []
        for index, column in enumerate(self.columns):
            if column:
                # Per call: converters are bound to the connection, which is per thread.
                found = connection.ops.get_db_converters(column) + column.get_db_converters(
                    connection
                )
                if found:
                    converters.append((index, found, column))
        with connection.cursor() as cursor:
            cursor.execute(cast(str, self.sql), params)
            fetched = cursor.fetchall()
        from_db, populators, peers = self._hydration(alias)
        for raw in fetched:
            row = list(raw[: self.width])
            for index, found, column in converters:
                value = row[index]
                for convert in found:
                    value = convert(value, column, connection)
                row[index] = value
            key = tuple(row[index] for index in self.key_at)
            if self.model is None:
                yield key, {name: row[index] for name, index in self.fields}
                continue
            start, end = self.model_columns
            instance = from_db(alias, self.init_list, row[start:end])
            if peers is not None:
                peers.append(weakref.ref(instance))
                instance._state.peers = peers
            for populator in populators:
                populator.populate(row, instance)
            for name, index in self.annotations:
                setattr(instance, name, row[index])
            yield key, instance

    def _hydration(
        self, alias: str
    ) -> tuple[Callable[..., Model], Sequence[Any], list[Any] | None]:
        """As ModelIterable: how to build an instance, its select_related populators, peers."""
        if self.model is None:
            return Model.from_db, (), None
        if self.fetch_mode is None or _from_db_with is None:  # Django 5.2
            return self.model.from_db, self.populators, None
        populators = get_related_populators(self.klass_info, self.select, alias, self.fetch_mode)
        peers: list[Any] | None = [] if self.fetch_mode.track_peers else None
        return _from_db_with(self.model, self.fetch_mode), populators, peers


def compile_plan(
    base: QuerySet[Model, object],
    shape: Callable[[QuerySet[Model, object]], QuerySet[Model, object]],
    joins: Sequence[str],
    count: int,
    alias: str,
    *,
    key_names: Sequence[str],
    hidden: str,
) -> Plan | None:
    """The plan for ``count`` keys on ``alias``, or None where the ORM must run the query.

    ``shape(base.filter(<keys>))`` is the query; ``key_names`` are the columns it
    selects the join keys as, and columns named ``hidden...`` are left out of rows.
    """
    # Prefetching takes more queries; known related objects are set from the manager.
    if base._prefetch_related_lookups or base._known_related_objects:  # type: ignore[attr-defined]  # private QuerySet state, not in the stubs
        return None
    binders: list[_Bind] = []
    queryset = shape(base.filter(_KeyMatch(joins, count, binders)))
    instances = queryset._iterable_class is ModelIterable and _MIRRORS_MODEL_ITERABLE
    if not instances and queryset._iterable_class is not ValuesIterable:
        return None  # values_list(), or an iterable class of the user's
    query = queryset.query
    compiler: SQLCompiler = query.get_compiler(using=alias)
    try:
        sql, compiled = compiler.as_sql()
    except EmptyResultSet:
        return Plan(sql=None)
    except Unplannable:
        return None
    params: tuple[object, ...] = tuple(compiled)
    columns = tuple(column for column, _, _ in compiler.select[: compiler.col_count])
    slots = tuple((i, p.key, p.part) for i, p in enumerate(params) if isinstance(p, _Slot))
    if any(isinstance(column, ColPairs) for column in columns) or len(slots) < count * len(joins):
        return None
    plan = Plan(
        sql=sql,
        params=tuple(None if isinstance(p, _Slot) else p for p in params),
        slots=slots,
        binders=tuple(binders),
        columns=columns,
        width=compiler.col_count if compiler.has_extra_select else None,
    )
    if not instances:  # as ValuesIterable
        names = list(query.selected or ())
        if not names:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return dataclasses.replace(
            plan,
            key_at=tuple(names.index(key) for key in key_names),
            fields=tuple((name, i) for i, name in enumerate(names) if not name.startswith(hidden)),
        )
    info, select = compiler.klass_info, compiler.select  # as ModelIterable
    start, end = info["select_fields"][0], info["select_fields"][-1] + 1
    annotations = compiler.annotation_col_map
    fetch_mode = getattr(queryset, "_fetch_mode", None) if _FETCH_MODES else None
    return dataclasses.replace(
        plan,
        key_at=tuple(annotations[key] for key in key_names),
        model=info["model"],
        model_columns=(start, end),
        init_list=tuple(column[0].target.attname for column in select[start:end]),
        populators=() if _FETCH_MODES else tuple(get_related_populators(info, select, alias)),  # type: ignore[call-arg]  # Django 5.2's signature; the stubs describe 6's
        klass_info=info,
        select=tuple(select),
        fetch_mode=fetch_mode,
        annotations=tuple(
            (name, i) for name, i in annotations.items() if not name.startswith(hidden)
        ),
    )
