"""ORM queries compiled once and run many times, for the partner read path.

Building and compiling a Django query costs 0.3-1.5 ms of CPU, every time, even when only
a value changes; on a partner read that runs half a dozen such queries it was a fifth of
the call. ``PreparedQuery`` keeps the ORM as the author of the SQL (quoting, vendor
differences, joins, the result converters, model instances) and reuses what it compiled:
per call it only swaps the values in and runs the statement.

    lookup = PreparedQuery(
        lambda checksum: AccessToken.objects.filter(token_checksum=checksum)[:1],
        checksum=AccessToken._meta.get_field("token_checksum"),
    )
    lookup.instances(checksum="...")   # model instances, as iterating the queryset would give
    lookup.rows(checksum="...")        # tuples, as values_list() would give

Each value is prepared by its field exactly as the ORM prepares a lookup's value. Values
that change the *shape* of the SQL (a slice, a lock) are passed as ``shape``, and a value
given as None reaches ``build`` as None (for an optional filter): one compilation per
shape and set of absent values (a few per query in practice; bounded anyway).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators

from config import direct

_MAX_SHAPES = 32


class PreparedQueryError(Exception):
    """The query could not be prepared (a value does not reach its parameters as given)."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, list[int]]  # value name -> where it goes in params
    compiler: Any
    model_slice: tuple[int, int]
    init_list: list[str]
    populators: list


def _sentinel(field: Field, index: int) -> Any:
    """A value of the field's type that no real call uses, to find where it lands in params."""
    target = getattr(field, "target_field", field)
    internal = target.get_internal_type()
    if internal in ("DateTimeField",):
        return datetime(1111, 1, 1, 1, 1, 1, 100_000 + index, tzinfo=UTC)
    if internal in ("UUIDField",):
        return UUID(int=0x5E17_1E1 + index)
    if internal in ("DecimalField",):
        return Decimal("-987654.321") - index
    if "Integer" in internal or internal in ("AutoField", "BigAutoField", "SmallAutoField"):
        return -987_654_321 - index
    return f"\x1fprepared-value-{index}\x1f"


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, using: str = "default", **fields: Field) -> None:
        self.build = build
        self.using = using
        self.fields = fields
        self._local = threading.local()

    def rows(self, *, shape: dict[str, Hashable] | None = None, **values: Any) -> list[tuple]:
        compiled, rows = self._run(shape or {}, values)
        return [tuple(row) for row in compiled.compiler.results_iter(results=[rows])]

    def instances(self, *, shape: dict[str, Hashable] | None = None, **values: Any) -> list:
        compiled, rows = self._run(shape or {}, values)
        model = compiled.compiler.klass_info["model"]
        start, end = compiled.model_slice
        found = []
        for row in compiled.compiler.results_iter(results=[rows]):
            instance = model.from_db(self.using, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def _run(self, shape: dict[str, Hashable], values: dict[str, Any]) -> tuple[_Compiled, list]:
        if set(values) != set(self.fields):
            raise TypeError(f"expected values for {sorted(self.fields)}, got {sorted(values)}")
        connection = connections[self.using]
        absent = tuple(sorted(name for name, value in values.items() if value is None))
        compiled = self._compiled(connection, shape, absent)
        params = list(compiled.params)
        for name, indexes in compiled.slots.items():
            prepared = self.fields[name].get_db_prep_value(values[name], connection, prepared=False)
            for index in indexes:
                params[index] = prepared
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchall()

    def _compiled(self, connection, shape: dict[str, Hashable], absent: tuple[str, ...]) -> _Compiled:
        # Per thread: a compiler holds its thread's connection (for the converters).
        cache: dict = self._local.__dict__.setdefault("cache", {})
        key = (connection.alias, connection.vendor, tuple(sorted(shape.items())), absent)
        found = cache.get(key)
        if found is None:
            if len(cache) >= _MAX_SHAPES:
                cache.clear()
            found = cache[key] = self._compile(connection, shape, absent)
        return found

    def _compile(self, connection, shape: dict[str, Hashable], absent: tuple[str, ...]) -> _Compiled:
        present = {name: field for name, field in self.fields.items() if name not in absent}
        sentinels = {name: _sentinel(field, index) for index, (name, field) in enumerate(present.items())}
        queryset = self.build(**shape, **sentinels, **dict.fromkeys(absent))
        compiler = queryset.query.get_compiler(using=self.using)
        sql, params = compiler.as_sql()
        slots = {}
        for name, field in present.items():
            prepared = field.get_db_prep_value(sentinels[name], connection, prepared=False)
            slots[name] = [index for index, param in enumerate(params) if param == prepared]
            if not slots[name]:
                raise PreparedQueryError(f"`{name}` does not reach the query's parameters as the field prepares it.")
        model_slice, init_list, populators = (0, 0), [], []
        if compiler.klass_info:  # a query of model instances (not values)
            select_fields = compiler.klass_info["select_fields"]
            model_slice = (select_fields[0], select_fields[-1] + 1)
            init_list = [column[0].target.attname for column in compiler.select[model_slice[0] : model_slice[1]]]
            populators = get_related_populators(compiler.klass_info, compiler.select, self.using)
        return _Compiled(sql, tuple(params), slots, compiler, model_slice, init_list, populators)


_insert_statements: dict[tuple, str] = {}


def insert_sql(connection, model: type[Model], columns: tuple[str, ...], *, returning: str | None = None) -> str:
    """A one-row INSERT of ``columns`` (returning one column if asked), built once per
    database vendor (quoting differs), model and columns, then reused by every call."""
    key = (connection.vendor, model, columns, returning)
    sql = _insert_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        names = ", ".join(quote(column) for column in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
        if returning is not None:
            sql += f" RETURNING {quote(returning)}"
        _insert_statements[key] = sql
    return sql


def insert(instance: Model, *, using: str = "default") -> Model:
    """Save a new instance with one INSERT (``RETURNING`` its number when the database
    numbers it) built once per model: what ``Model.save()`` writes, without building the
    query anew on each call, and sent straight through libpq on PostgreSQL
    (``config.direct``). No signals are sent, so this is only for hot-path rows whose
    model has no receivers."""
    connection = connections[using]
    model = type(instance)
    numbered = model._meta.auto_field  # None when the model gives its own primary key
    fields = [field for field in model._meta.concrete_fields if field is not numbered]
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    columns = tuple(field.column for field in fields)
    sql = insert_sql(connection, model, columns, returning=numbered.column if numbered else None)
    returned = direct.execute(sql, params, using=using)
    if numbered is not None:
        setattr(instance, numbered.attname, returned[0])
    instance._state.adding = False
    instance._state.db = using
    return instance
