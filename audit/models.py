from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time a Celery worker ran the periodic heartbeat task: shows whether workers live."""

    hostname = models.CharField("工作进程", max_length=200, unique=True)
    last_seen = models.DateTimeField("最近心跳")
    beats = models.PositiveBigIntegerField("心跳次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "工作进程心跳"

    def __str__(self):
        return self.hostname
