"""Who may read which licence: API keys, holder consent, statutory grants, annotated copies.

Rows here are written only by `access.services`. A grant row is the authority; the guardian
object permission (direct foreign-key tables below, one group per organisation) mirrors it so
that guardian-based tooling agrees, but every decision in `access.permissions` also checks the
grant row itself, so expiry, revocation and exhausted uses take effect on the next request.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import F, Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from licensing.models import License
from registry.models import Holder, Purpose, RequestingOrganisation


class ApiKey(models.Model):
    """A key for an organisation's API client: `<prefix>.<secret>`, only the secret's hash kept.

    The secret is 32 random bytes. A fast hash (SHA-256) is right for it, unlike for passwords:
    slow hashes exist to make guessing low-entropy secrets expensive, and 256 random bits cannot
    be guessed at any speed; a slow hash would only add its cost to every API request.
    """

    organisation = models.ForeignKey(
        RequestingOrganisation, verbose_name="用证机构", on_delete=models.PROTECT, related_name="api_keys"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="使用人",
        help_text="以此密钥调用接口时记录为操作人的机构人员",
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    label = models.CharField("名称", max_length=100)
    prefix = models.CharField("前缀", max_length=16, unique=True, editable=False)
    key_hash = models.CharField("密钥哈希（SHA-256）", max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "接口密钥"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.label}（{self.prefix}…）"


class Authorisation(models.Model):
    """A holder's consent: one organisation may use one licence for some purposes, some fields."""

    class RevokedBy(models.TextChoices):
        HOLDER = "HOLDER", "权利人撤回"
        COMMISSION = "COMMISSION", "登记机构撤销"

    license = models.ForeignKey(
        License, verbose_name="电子证照", on_delete=models.PROTECT, related_name="authorisations"
    )
    organisation = models.ForeignKey(
        RequestingOrganisation, verbose_name="用证机构", on_delete=models.PROTECT, related_name="authorisations"
    )
    holder = models.ForeignKey(Holder, verbose_name="授权权利人", on_delete=models.PROTECT, related_name="+")
    purposes = models.ManyToManyField(Purpose, verbose_name="授权事由", related_name="+")
    # Field names of `access.policy.FIELDS`: the consent can only narrow what the policy allows.
    fields = models.JSONField("授权字段", default=list)
    valid_until = models.DateTimeField("有效期至")
    max_uses = models.PositiveIntegerField("最多使用次数")
    uses = models.PositiveIntegerField("已使用次数", default=0, editable=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+", editable=False
    )
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤回时间", null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤回人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    revocation_source = models.CharField("撤回方", max_length=10, choices=RevokedBy.choices, blank=True, editable=False)
    revocation_reason = models.TextField("撤回原因", blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "权利人授权"
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["organisation", "license"], name="authorisation_org_license")]
        constraints = [
            # The database itself refuses a use beyond the maximum, whatever the caller does.
            models.CheckConstraint(condition=Q(uses__lte=F("max_uses")), name="authorisation_uses_within_max"),
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="authorisation_max_uses_positive"),
        ]

    def __str__(self):
        return f"{self.organisation} · {self.license} · 授权#{self.pk}"


class StatutoryGrant(models.Model):
    """Access on a statutory basis (court ruling, government department), with its legal document."""

    license = models.ForeignKey(
        License, verbose_name="电子证照", on_delete=models.PROTECT, related_name="statutory_grants"
    )
    organisation = models.ForeignKey(
        RequestingOrganisation, verbose_name="用证机构", on_delete=models.PROTECT, related_name="statutory_grants"
    )
    legal_document_number = models.CharField("法律文书编号", max_length=100)
    purposes = models.ManyToManyField(Purpose, verbose_name="用证事由", related_name="+")
    valid_until = models.DateTimeField("有效期至")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+", editable=False
    )
    granted_at = models.DateTimeField("登记时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    revocation_reason = models.TextField("撤销原因", blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "法定依据授权"
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["organisation", "license"], name="statutory_org_license")]

    def __str__(self):
        return f"{self.organisation} · {self.license} · {self.legal_document_number}"


class AnnotatedCopy(models.Model):
    """A 加注件: a signed copy of one licence for one organisation and purpose, with its own expiry."""

    class State(models.TextChoices):
        PENDING = "PENDING", "制作中"
        READY = "READY", "已完成"
        FAILED = "FAILED", "失败"

    # Public id: unguessable, so a copy's URL reveals nothing about how many copies exist.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    license = models.ForeignKey(License, verbose_name="电子证照", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        RequestingOrganisation, verbose_name="用证机构", on_delete=models.PROTECT, related_name="annotated_copies"
    )
    purpose = models.ForeignKey(Purpose, verbose_name="用证事由", on_delete=models.PROTECT, related_name="+")
    api_key = models.ForeignKey(
        ApiKey, verbose_name="接口密钥", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    # The grant the copy was made under: downloading it needs that grant still unrevoked.
    authorisation = models.ForeignKey(
        Authorisation, verbose_name="权利人授权", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    statutory_grant = models.ForeignKey(
        StatutoryGrant, verbose_name="法定依据授权", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_until = models.DateTimeField("有效期至")
    watermark = models.CharField("加注文字", max_length=200)
    identifier = models.CharField("加注件标识", max_length=120, unique=True, null=True, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField("错误", blank=True)
    file = models.FileField("签章文件", upload_to="annotated/", blank=True)
    file_sha256 = models.CharField("文件SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "加注件"
        ordering = ["-created_at"]

    def __str__(self):
        return self.identifier or f"加注件 {self.id}"


class LicenseUserObjectPermission(UserObjectPermissionBase):
    """guardian's direct foreign-key table for per-user licence permissions (found by guardian
    through this reverse relation on `License`; rows go with the licence)."""

    content_object = models.ForeignKey(License, on_delete=models.CASCADE, related_name="user_object_permissions")

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = verbose_name_plural = "证照用户对象权限"


class LicenseGroupObjectPermission(GroupObjectPermissionBase):
    """guardian's direct foreign-key table for per-group licence permissions: one group per
    organisation holds `licensing.view_license` on each licence it has a grant for."""

    content_object = models.ForeignKey(License, on_delete=models.CASCADE, related_name="group_object_permissions")

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = verbose_name_plural = "证照机构对象权限"


class OrganisationUser(User):
    """Organisation staff accounts as their administrator manages them in the admin (a proxy of
    User, so an organisation administrator never gets the commission's user admin)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "机构人员账户"
