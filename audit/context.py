"""Who is acting, and under which correlation id, for the audit chain and django-auditlog.

One `ContextVar` holds the current `AuditContext`. It is set
- per request by `audit.middleware.AuditContextMiddleware` (session users; correlation id from a
  well-formed `X-Request-ID`, else a new UUID);
- by API code around the view's work with `acting_as(user, api_key=…, organisation=…)`, because
  token/key authentication happens after the middleware, which sees no user;
- in Celery tasks from message headers (`audit.signals`), so a task carries the id of the
  request that started it;
- in management commands with `acting_as_system("command name")`.

`acting_as` also enters `auditlog.context.set_actor`, so auditlog's change records get the same
actor and remote address; `settings.AUDITLOG_CID_GETTER` points at `get_correlation_id`, so they
get the same correlation id.
"""

import contextlib
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from auditlog.context import auditlog_value, set_actor

_CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None  # an authenticated User, or None for the system / anonymous
    correlation_id: str = ""
    remote_addr: str | None = None
    organisation: Any = None  # registry.RequestingOrganisation the actor acts for, if any
    api_key: Any = None  # the API key object of an API client, if any
    system_label: str = ""  # who "the system" is when actor is None (command or task name)


_current: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext())  # noqa: B039


def current() -> AuditContext:
    return _current.get()


def get_correlation_id() -> str | None:
    """The current correlation id (django-auditlog's AUDITLOG_CID_GETTER)."""
    return _current.get().correlation_id or None


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def clean_correlation_id(value) -> str | None:
    """`value` if it is an acceptable correlation id (8-64 of `A-Za-z0-9._:-`), else None.

    Client-supplied ids end up in logs and in the chain: anything else is replaced, not stored.
    """
    if isinstance(value, str) and _CORRELATION_ID.match(value):
        return value
    return None


@contextlib.contextmanager
def _enter(ctx: AuditContext):
    token = _current.set(ctx)
    # django-auditlog's set_actor leaves its own context variable pointing at the inner value
    # when it exits, which silently stops an enclosing set_actor from working: restore it.
    try:
        outer_auditlog = auditlog_value.get()
    except LookupError:
        outer_auditlog = None
    try:
        with set_actor(ctx.actor, remote_addr=ctx.remote_addr):
            yield ctx
    finally:
        if outer_auditlog is not None:
            auditlog_value.set(outer_auditlog)
        _current.reset(token)


def acting_as(user, *, correlation_id=None, remote_addr=None, organisation=None, api_key=None):
    """Context manager: `user` (a User, or None/anonymous for the system) is acting.

    Values not given are inherited from the enclosing context (the request's correlation id and
    address stay when the API sets its key-authenticated user); a new correlation id is made if
    there is none yet.
    """
    outer = current()
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    ctx = AuditContext(
        actor=user,
        correlation_id=clean_correlation_id(correlation_id) or outer.correlation_id or new_correlation_id(),
        remote_addr=remote_addr if remote_addr is not None else outer.remote_addr,
        organisation=organisation if organisation is not None else outer.organisation,
        api_key=api_key if api_key is not None else outer.api_key,
        system_label="" if user is not None else outer.system_label,
    )
    return _enter(ctx)


def acting_as_system(label: str, *, correlation_id=None):
    """Context manager for management commands and periodic tasks: the system acts, named `label`.

    Any user, organisation or API key of an enclosing context is dropped on purpose: a command
    is not done on anybody's behalf.
    """
    outer = current()
    ctx = replace(
        AuditContext(),
        correlation_id=clean_correlation_id(correlation_id) or outer.correlation_id or new_correlation_id(),
        system_label=label,
    )
    return _enter(ctx)


class SystemCommandMixin:
    """For management commands: everything `handle` does is recorded as done by the system,
    named after the command, under one new correlation id.

        class Command(SystemCommandMixin, BaseCommand): ...
    """

    def execute(self, *args, **options):
        label = type(self).__module__.rsplit(".", 1)[-1]
        with acting_as_system(label):
            return super().execute(*args, **options)
