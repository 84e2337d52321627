"""Licences and their lifecycle records.

Nothing outside `licensing.services` assigns `License.status`: every change goes through one
service function, which also writes a `StatusEvent` and an audit chain event.
"""

from django.conf import settings
from django.db import models

from registry.models import Holder, Issuer, LicenseKind, LicenseType, PropertyUnit


class LicenseStatus(models.TextChoices):
    DRAFT = "DRAFT", "草稿"
    PENDING_SIGNATURE = "PENDING_SIGNATURE", "待签章"
    VALID = "VALID", "有效"
    SUSPENDED = "SUSPENDED", "暂时失效"
    CANCELLED = "CANCELLED", "已注销"
    REVOKED = "REVOKED", "已撤销"


class CoOwnership(models.TextChoices):
    SOLE = "SOLE", "单独所有"
    JOINT = "JOINT", "共同共有"
    SHARES = "SHARES", "按份共有"


class CancellationReason(models.TextChoices):
    TRANSFER = "TRANSFER", "转移"
    CHANGE = "CHANGE", "变更"
    REPLACEMENT = "REPLACEMENT", "换证"
    REISSUE = "REISSUE", "补证"
    MORTGAGE_RELEASE = "MORTGAGE_RELEASE", "抵押权注销"
    ADVANCE_NOTICE_RELEASE = "ADVANCE_NOTICE_RELEASE", "预告注销"
    DESTRUCTION = "DESTRUCTION", "灭失"
    ISSUED_IN_ERROR = "ISSUED_IN_ERROR", "签发错误"
    COURT_RULING = "COURT_RULING", "法院裁定"
    OTHER = "OTHER", "其他"


class License(models.Model):
    """One electronic licence (电子证照): its record, and the signed PDF once signed."""

    kind = models.CharField("证照种类", max_length=16, choices=LicenseKind.choices)
    license_type = models.ForeignKey(LicenseType, verbose_name="证照类型", on_delete=models.PROTECT)
    issuer = models.ForeignKey(Issuer, verbose_name="发证机构", on_delete=models.PROTECT)
    property_unit = models.ForeignKey(
        PropertyUnit, verbose_name="不动产单元", on_delete=models.PROTECT, related_name="licenses"
    )
    holders = models.ManyToManyField(Holder, through="LicenseHolder", verbose_name="权利人/义务人")
    co_ownership = models.CharField("共有情况", max_length=8, choices=CoOwnership.choices, default=CoOwnership.SOLE)
    notes = models.TextField("附记", blank=True)

    # Certification (不动产登记证明) fields.
    right_or_matter = models.CharField("证明权利或事项", max_length=60, blank=True)
    secured_amount = models.DecimalField(
        "被担保主债权数额（元）", max_digits=16, decimal_places=2, null=True, blank=True
    )
    debt_term_start = models.DateField("债务履行期限起", null=True, blank=True)
    debt_term_end = models.DateField("债务履行期限止", null=True, blank=True)
    encumbered_certificate_number = models.CharField("抵押不动产权证书号", max_length=60, blank=True)

    # Allocated on issue.
    identifier = models.CharField("电子证照标识", max_length=100, unique=True, null=True, blank=True, editable=False)
    serial = models.CharField("证照序号", max_length=30, blank=True, editable=False)
    version = models.PositiveSmallIntegerField("版本", default=1, editable=False)
    certificate_number = models.CharField(
        "证书（证明）号", max_length=60, unique=True, null=True, blank=True, editable=False
    )
    number_year = models.PositiveSmallIntegerField("编号年份", null=True, blank=True, editable=False)
    number_serial = models.PositiveIntegerField("编号顺序号", null=True, blank=True, editable=False)

    status = models.CharField(
        "状态", max_length=20, choices=LicenseStatus.choices, default=LicenseStatus.DRAFT, editable=False
    )
    status_reason = models.CharField(
        "状态原因", max_length=30, choices=CancellationReason.choices, blank=True, editable=False
    )
    status_note = models.TextField("状态说明", blank=True, editable=False)
    status_changed_at = models.DateTimeField("状态变更时间", null=True, blank=True, editable=False)
    supersedes = models.OneToOneField(
        "self",
        verbose_name="取代的证照",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        editable=False,
    )
    # Random, unguessable: the QR code's public check URL is /v/<check_code>.
    check_code = models.CharField("核验码", max_length=32, unique=True, editable=False)

    file = models.FileField("签章文件", upload_to="licenses/", blank=True, editable=False)
    file_sha256 = models.CharField("文件SHA-256", max_length=64, blank=True, db_index=True, editable=False)
    signer_fingerprint = models.CharField("签章证书指纹", max_length=64, blank=True, editable=False)
    signed_at = models.DateTimeField("签章时间", null=True, blank=True, editable=False)
    signing_error = models.TextField("最近签章错误", blank=True, editable=False)
    signing_attempts = models.PositiveSmallIntegerField("签章尝试次数", default=0, editable=False)
    cancelled_file = models.FileField("注销版本文件", upload_to="licenses/", blank=True, editable=False)
    cancelled_file_sha256 = models.CharField("注销版本SHA-256", max_length=64, blank=True, editable=False)

    issued_at = models.DateTimeField("签发时间", null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "电子证照"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="license_status_updated"),
            models.Index(fields=["property_unit", "status"], name="license_unit_status"),
        ]
        permissions = [
            ("issue_license", "签发电子证照"),
            ("cancel_license", "注销电子证照"),
            ("approve_cancellation", "审批签发错误注销"),
            ("revoke_license", "撤销电子证照"),
            ("suspend_license", "暂停/恢复电子证照"),
            ("replace_license", "换证、补证、转移"),
            ("file_license", "归档电子证照"),
            ("download_license_file", "下载签章文件"),
        ]

    def __str__(self):
        return self.certificate_number or f"草稿 #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in (LicenseStatus.CANCELLED, LicenseStatus.REVOKED)


class LicenseHolder(models.Model):
    class Role(models.TextChoices):
        HOLDER = "HOLDER", "权利人"
        OBLIGOR = "OBLIGOR", "义务人"

    license = models.ForeignKey(License, verbose_name="电子证照", on_delete=models.CASCADE, related_name="parties")
    holder = models.ForeignKey(Holder, verbose_name="主体", on_delete=models.PROTECT, related_name="license_roles")
    role = models.CharField("角色", max_length=8, choices=Role.choices, default=Role.HOLDER)
    share = models.CharField("份额", max_length=20, blank=True, help_text="按份共有时填写，如 50%")
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "证照主体"
        ordering = ["license", "role", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["license", "holder", "role"], name="license_holder_unique_role"),
        ]

    def __str__(self):
        return f"{self.get_role_display()}：{self.holder}"


class StatusEvent(models.Model):
    """One row per status change: the licence's own history, shown on its admin page."""

    license = models.ForeignKey(
        License, verbose_name="电子证照", on_delete=models.CASCADE, related_name="status_events"
    )
    action = models.CharField("操作", max_length=30)
    from_status = models.CharField("原状态", max_length=20, choices=LicenseStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=LicenseStatus.choices)
    reason = models.CharField("原因", max_length=30, choices=CancellationReason.choices, blank=True)
    note = models.TextField("说明", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "状态变更记录"
        ordering = ["license", "id"]

    def __str__(self):
        return f"{self.action}: {self.from_status or '—'} → {self.to_status}"


class NumberCounter(models.Model):
    """A gapless counter per scope, incremented under a row lock inside the issuing transaction.

    If the transaction rolls back, so does the increment: serials stay consecutive.
    """

    scope = models.CharField("范围", max_length=120, unique=True)
    last_value = models.PositiveBigIntegerField("当前值", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "编号计数器"

    def __str__(self):
        return f"{self.scope} = {self.last_value}"


class CancellationRequest(models.Model):
    """A cancellation that needs a second person (签发错误): requested by one, approved by another."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "待审批"
        APPROVED = "APPROVED", "已批准并注销"
        REJECTED = "REJECTED", "已驳回"

    license = models.ForeignKey(
        License, verbose_name="电子证照", on_delete=models.PROTECT, related_name="cancellation_requests"
    )
    reason = models.CharField("注销原因", max_length=30, choices=CancellationReason.choices)
    note = models.TextField("说明")
    status = models.CharField("审批状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "注销审批"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["license"], condition=models.Q(status="PENDING"), name="one_pending_cancellation_per_license"
            ),
        ]

    def __str__(self):
        return f"{self.license} · {self.get_reason_display()} · {self.get_status_display()}"


class ArchivePackage(models.Model):
    """A filing (归档) of a licence: signed PDF, metadata, validation material and a SHA-256 manifest.

    A licence is filed once per status it reaches with a file (e.g. on issue and again on
    cancellation); packages are never changed afterwards.
    """

    license = models.ForeignKey(License, verbose_name="电子证照", on_delete=models.PROTECT, related_name="archives")
    archive_number = models.CharField("档案号", max_length=40, unique=True)
    status_at_filing = models.CharField("归档时状态", max_length=20, choices=LicenseStatus.choices)
    retention = models.CharField("保管期限", max_length=20, default="永久")
    package = models.FileField("归档包", upload_to="archives/")
    package_sha256 = models.CharField("归档包SHA-256", max_length=64)
    manifest = models.JSONField("清单", default=dict)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="归档人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_at = models.DateTimeField("归档时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "归档记录"
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(fields=["license", "status_at_filing"], name="one_archive_per_license_status"),
        ]

    def __str__(self):
        return self.archive_number
