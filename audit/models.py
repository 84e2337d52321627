"""The append-only audit chain, its checkpoints, and the worker heartbeat.

Every `AuditEvent` carries `hash = SHA-256(prev_hash + canonical event)` (see `audit.chain`), so
editing, deleting, inserting or reordering a row breaks a link that `manage.py verify_audit`
finds. Rows are written only by `audit.services.record_event`; the model refuses updates and
deletes in Python, and on PostgreSQL a trigger (migration 0002) refuses them in the database.
"""

from django.conf import settings
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


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit record."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes would bypass the chain (and `save`), so they are refused outright."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: update() refused")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: delete() refused")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: bulk_update() refused")

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are written one by one through audit.services")

    update.queryset_only = True
    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} {self.pk} is append-only: it cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} {self.pk} is append-only: it cannot be deleted")


class AuditChainHead(models.Model):
    """The chain's single sequencer: one row, locked (SELECT … FOR UPDATE) by every writer.

    Holding this row's lock while reading the last event and inserting the next one serialises
    writers, so two transactions can never both append after the same event (fork the chain).
    `seq`/`hash` mirror the last event; `verify_audit` also compares them with the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.PositiveBigIntegerField("最新序号", default=0)
    hash = models.CharField("最新哈希", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "审计链头"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self):
        return f"#{self.seq} {self.hash[:12]}"


class AuditResult(models.TextChoices):
    SUCCESS = "SUCCESS", "成功"
    FAILURE = "FAILURE", "失败"
    DENIED = "DENIED", "拒绝"


class AuditEvent(AppendOnlyModel):
    """One link of the audit chain. Never updated or deleted (retention: see README "Audit")."""

    seq = models.BigIntegerField("序号", primary_key=True)
    occurred_at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        # Users are deactivated, never deleted, once they appear in the trail.
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_repr = models.CharField("操作人（记录时）", max_length=150, blank=True)
    organisation = models.ForeignKey(
        "registry.RequestingOrganisation",
        verbose_name="用证机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key_repr = models.CharField("API 密钥", max_length=100, blank=True)
    action = models.CharField("操作", max_length=40)
    target_type = models.CharField("对象类型", max_length=100, blank=True)
    target_id = models.CharField("对象 ID", max_length=64, blank=True)
    target_repr = models.CharField("对象", max_length=200, blank=True)
    license_identifier = models.CharField("电子证照标识", max_length=100, blank=True)
    certificate_number = models.CharField("证书（证明）号", max_length=60, blank=True)
    result = models.CharField("结果", max_length=10, choices=AuditResult.choices, default=AuditResult.SUCCESS)
    reason = models.TextField("原因", blank=True)
    purpose = models.CharField("用证事由", max_length=100, blank=True)
    details = models.JSONField("详情（已脱敏）", default=dict, blank=True)
    correlation_id = models.CharField("关联 ID", max_length=64, blank=True)
    # Text, not inet: the database must hand back exactly the string that was hashed.
    remote_addr = models.CharField("来源地址", max_length=45, blank=True)
    prev_hash = models.CharField("前一哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "审计事件"
        ordering = ["-seq"]
        # Every auditor query is "newest first within one key": (key, seq) composite indexes let
        # PostgreSQL walk the index backwards and stop after one page, even at millions of rows.
        indexes = [
            models.Index(fields=["license_identifier", "seq"], name="audit_event_license_seq"),
            models.Index(fields=["certificate_number", "seq"], name="audit_event_cert_seq"),
            models.Index(fields=["organisation", "seq"], name="audit_event_org_seq"),
            models.Index(fields=["actor", "seq"], name="audit_event_actor_seq"),
            models.Index(fields=["action", "seq"], name="audit_event_action_seq"),
            models.Index(fields=["occurred_at"], name="audit_event_occurred"),
            models.Index(fields=["correlation_id"], name="audit_event_correlation"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.target_repr}".strip()


class AuditCheckpoint(AppendOnlyModel):
    """A signed statement "the chain had `seq` events, the last with `hash`, at `created_at`".

    Made periodically by `audit.tasks.sign_checkpoint` with the commission key and exported off
    site (`manage.py export_checkpoints`): someone who can rewrite the database cannot forge it,
    so a removed tail or a rewritten history before `seq` is detected by `verify_audit`.
    """

    seq = models.BigIntegerField("序号", db_index=True)
    hash = models.CharField("哈希", max_length=64)
    created_at = models.DateTimeField("签署时间")
    signature = models.TextField("签名（Base64）")
    certificate = models.TextField("签名证书（PEM）")
    certificate_fingerprint = models.CharField("证书指纹（SHA-256）", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "审计链检查点"
        ordering = ["-seq", "-created_at"]

    def __str__(self):
        return f"#{self.seq} {self.hash[:12]}"


class AuditVerification(models.Model):
    """The outcome of one run of the chain verification (command or periodic task)."""

    ran_at = models.DateTimeField("校验时间")
    ok = models.BooleanField("完整")
    events_checked = models.PositiveBigIntegerField("已校验事件数")
    last_seq = models.BigIntegerField("最新序号", default=0)
    checkpoints_checked = models.PositiveIntegerField("已校验检查点数", default=0)
    first_bad_seq = models.BigIntegerField("首个异常序号", null=True, blank=True)
    problem = models.TextField("问题", blank=True)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", default=0)
    source = models.CharField("来源", max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计链校验记录"
        ordering = ["-ran_at"]
        indexes = [models.Index(fields=["ran_at"], name="audit_verification_ran_at")]

    def __str__(self):
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'完整' if self.ok else '异常'}"
