"""Infrastructure signal handlers: audit context across Celery, and staff sign-in events.

Celery: `before_task_publish` copies the publisher's correlation id, user and organisation into
the message headers; `task_prerun` re-creates that context in the worker (or a system context
named after the task when nobody started it) and `task_postrun` clears it, so events and
auditlog records written by a task carry the id of the request that queued it.
"""

import contextlib

from axes.signals import user_locked_out
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from audit.context import acting_as, acting_as_system, current

HEADER_CORRELATION_ID = "audit_correlation_id"
HEADER_ACTOR_ID = "audit_actor_id"
HEADER_ORGANISATION_ID = "audit_organisation_id"

_task_contexts: dict[str, contextlib.ExitStack] = {}


@before_task_publish.connect(dispatch_uid="audit.before_task_publish")
def add_audit_headers(sender=None, headers=None, **kwargs):
    if headers is None:
        return
    ctx = current()
    if ctx.correlation_id:
        headers.setdefault(HEADER_CORRELATION_ID, ctx.correlation_id)
    if ctx.actor is not None:
        headers.setdefault(HEADER_ACTOR_ID, ctx.actor.pk)
    if ctx.organisation is not None:
        headers.setdefault(HEADER_ORGANISATION_ID, ctx.organisation.pk)


@task_prerun.connect(dispatch_uid="audit.task_prerun")
def enter_task_context(task_id=None, task=None, **kwargs):
    request = task.request
    correlation_id = request.get(HEADER_CORRELATION_ID)
    actor_id = request.get(HEADER_ACTOR_ID)
    organisation_id = request.get(HEADER_ORGANISATION_ID)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id is not None else None
    stack = contextlib.ExitStack()
    if actor is not None:
        organisation = None
        if organisation_id is not None:
            from registry.models import RequestingOrganisation

            organisation = RequestingOrganisation.objects.filter(pk=organisation_id).first()
        stack.enter_context(acting_as(actor, correlation_id=correlation_id, organisation=organisation))
    else:
        stack.enter_context(acting_as_system(task.name, correlation_id=correlation_id))
    _task_contexts[task_id] = stack


@task_postrun.connect(dispatch_uid="audit.task_postrun")
def leave_task_context(task_id=None, **kwargs):
    stack = _task_contexts.pop(task_id, None)
    if stack is not None:
        stack.close()


@receiver(user_logged_in, dispatch_uid="audit.user_logged_in")
def record_login(sender, request=None, user=None, **kwargs):
    from audit.services import record_event

    record_event(action="auth.login", actor=user)


@receiver(user_login_failed, dispatch_uid="audit.user_login_failed")
def record_login_failure(sender, credentials=None, request=None, **kwargs):
    from audit.services import record_event

    # Only the name that was tried: Django already blanks the password in `credentials`, and
    # nothing else from them belongs in the trail.
    username = str((credentials or {}).get("username", ""))[:150]
    record_event(action="auth.login_failed", actor=None, result="FAILURE", details={"username": username})


@receiver(user_locked_out, dispatch_uid="audit.user_locked_out")
def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """django-axes locked this username out from this address, or refused it while locked."""
    from audit.services import record_event

    record_event(action="auth.locked_out", actor=None, result="DENIED", details={"username": str(username or "")[:150]})
