import time

from django.conf import settings

from audit.models import WorkerHeartbeat
from audit.tasks import record_worker_heartbeat
from config.celery import app


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_it_runs_a_task_in_a_real_worker_and_the_result_reaches_the_database(celery_worker):
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_url.startswith("redis://" if settings.REDIS_URL else "filesystem://")

    record_worker_heartbeat.delay()

    assert _wait_for(lambda: WorkerHeartbeat.objects.filter(beats__gte=1).exists())
    beat = WorkerHeartbeat.objects.get()
    assert beat.hostname and beat.hostname in celery_worker.hostname

    record_worker_heartbeat.delay()
    assert _wait_for(lambda: WorkerHeartbeat.objects.get().beats == 2)
    assert WorkerHeartbeat.objects.count() == 1
