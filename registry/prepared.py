"""Hot reads whose SQL is compiled once per connection instead of on every call.

Django compiles a queryset to SQL each time it is evaluated. For the few reads that run on every
licence or every API request and always have the same shape (a licence with its type, issuer and
unit, by key), that compilation costs more than the query: ~3 ms of Python for the signing task's
locking read of ~100 columns, against ~0.3 ms in PostgreSQL. `PreparedRead` compiles the shape
once per connection with stand-in values, remembers where each argument lands among the SQL
parameters, and afterwards only binds new values. Django's own code still executes the SQL and
builds the model instances (select_related, prefetch_related, converters), and on PostgreSQL the
unchanged SQL text also lets psycopg keep a prepared statement.

If the stand-ins cannot be found, or land differently in two compilations, the read is simply
evaluated as an ordinary queryset every time: correct, just not faster.
"""

import copy
import secrets
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

_UNPREPARABLE = object()


class PreparedRead:
    """`read = PreparedRead(lambda pk: Model.objects.filter(pk=pk))`; `read(pk=5)` is a list.

    `build` must take keyword arguments and return a queryset whose SQL depends on them only as
    parameter values (no lookups that rewrite a value, such as `__contains`). Arguments are ints
    or strings.
    """

    def __init__(self, build: Callable[..., QuerySet], name: str, using: str = DEFAULT_DB_ALIAS):
        self.build = build
        self.name = name  # key of the per-connection cache
        self.using = using

    def __call__(self, **kwargs) -> list:
        connection = connections[self.using]
        cache = connection.__dict__.setdefault("_prepared_reads", {})
        if self.name not in cache:
            cache[self.name] = self._compile(self.using, kwargs)
        prepared = cache[self.name]
        if prepared is _UNPREPARABLE or any(
            type(value) is not type(prepared.stand_ins[name]) for name, value in kwargs.items()
        ):
            return list(self.build(**kwargs).using(self.using))  # bound as they come: only the compiled types
        queryset = prepared.queryset.all()  # a clone of the compiled shape: no filter() to rebuild
        if queryset.query.select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(prepared.params)
        for name, index in prepared.positions.items():
            params[index] = kwargs[name]
        compiler = copy.copy(prepared.compiler)
        compiler.as_sql = lambda *args, **kw: (prepared.sql, tuple(params))
        compiler.get_converters = lambda expressions: prepared.converters
        queryset.query.get_compiler = lambda *args, **kw: compiler
        return list(queryset)

    def _compile(self, using: str, kwargs: dict):
        first, second = (self._stand_in_compilation(using, kwargs) for _ in range(2))
        if first is None or second is None or first.sql != second.sql or len(first.params) != len(second.params):
            return _UNPREPARABLE
        for name in kwargs:
            hits = [i for i, value in enumerate(first.params) if value == first.stand_ins[name]]
            if len(hits) != 1 or second.params[hits[0]] != second.stand_ins[name]:
                return _UNPREPARABLE
            first.positions[name] = hits[0]
        others = [i for i in range(len(first.params)) if i not in first.positions.values()]
        if any(first.params[i] != second.params[i] for i in others):
            return _UNPREPARABLE
        return first

    def _stand_in_compilation(self, using: str, kwargs: dict):
        stand_ins = {}
        for name, value in kwargs.items():
            if isinstance(value, bool) or not isinstance(value, int | str):
                return None
            stand_ins[name] = secrets.randbits(52) + 1 if isinstance(value, int) else "~" + secrets.token_hex(12)
        queryset = self.build(**stand_ins).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # also sets up compiler.select, klass_info, … for the rows
        compilation = _Compilation(queryset, compiler, sql, tuple(params), stand_ins)
        # What results_iter would work out on every call: the columns' value converters.
        compilation.converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        return compilation


class _Compilation:
    def __init__(self, queryset, compiler, sql, params, stand_ins):
        self.queryset, self.compiler, self.sql, self.params = queryset, compiler, sql, params
        self.stand_ins, self.positions = stand_ins, {}
