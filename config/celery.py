"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("licences")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def release_unusable_connections(task=None, **kwargs):
    """Around each task, what Django does around each request: close a database connection that
    is broken or older than CONN_MAX_AGE, and health-check the others on first use.

    Celery's Django fixup would close every connection before and after every task (see
    CELERY_DB_REUSE_MAX in settings); reconnecting cost a signing task ~10 ms plus a fresh
    PostgreSQL backend with cold caches and no prepared statements."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run inline by the caller, inside its own connection handling
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
