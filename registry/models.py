"""Reference and party data that licences are about (DOMAIN.md)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from registry.validators import parse_unit_number, validate_unit_number, validate_uscc


class District(models.Model):
    """A Beijing district (GB/T 2260), loaded by a data migration."""

    code = models.CharField("行政区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=20, unique=True)

    class Meta:
        verbose_name = verbose_name_plural = "行政区"
        ordering = ["code"]

    def __str__(self):
        return self.name


class LicenseKind(models.TextChoices):
    CERTIFICATE = "CERTIFICATE", "不动产权证书"
    CERTIFICATION = "CERTIFICATION", "不动产登记证明"


class LicenseType(models.Model):
    """A licence type of the GB/T 36902 catalogue."""

    code = models.CharField("证照类型代码", max_length=21, unique=True)
    name = models.CharField("证照类型名称", max_length=50)
    kind = models.CharField("证照种类", max_length=16, choices=LicenseKind.choices)
    issuing_level = models.CharField("发证机构级别", max_length=20, default="市级")
    holder_category = models.CharField("持证主体类别", max_length=30, default="自然人、法人和其他组织")
    validity = models.CharField("有效期限", max_length=30, default="长期")

    class Meta:
        verbose_name = verbose_name_plural = "证照类型"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class Issuer(models.Model):
    """The commission or one of its district offices, which issues and seals licences."""

    name = models.CharField("发证机构名称", max_length=100)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    seal_name = models.CharField("印章名称", max_length=100)
    district = models.ForeignKey(District, verbose_name="所在行政区", null=True, blank=True, on_delete=models.PROTECT)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "发证机构"
        ordering = ["uscc"]

    def __str__(self):
        return self.name


class PropertyUnit(models.Model):
    """A real property unit (不动产单元) identified by its 28-character unit number."""

    unit_number = models.CharField("不动产单元号", max_length=28, unique=True, validators=[validate_unit_number])
    district = models.ForeignKey(District, verbose_name="行政区", on_delete=models.PROTECT)
    location = models.CharField("坐落", max_length=200)
    right_type = models.CharField("权利类型", max_length=60)
    right_nature = models.CharField("权利性质", max_length=60)
    use = models.CharField("用途", max_length=60)
    land_area = models.DecimalField("土地面积（㎡）", max_digits=12, decimal_places=2, null=True, blank=True)
    building_area = models.DecimalField("房屋面积（㎡）", max_digits=12, decimal_places=2, null=True, blank=True)
    term_start = models.DateField("使用期限起", null=True, blank=True)
    term_end = models.DateField("使用期限止", null=True, blank=True)
    other_status = models.TextField("权利其他状况", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "不动产单元"
        ordering = ["unit_number"]

    def __str__(self):
        return self.unit_number

    @property
    def parts(self):
        """The unit number decomposed (registry.validators.UnitNumber)."""
        return parse_unit_number(self.unit_number)

    def clean(self):
        super().clean()
        try:
            county = parse_unit_number(self.unit_number).county_code
        except ValidationError:
            return  # reported by the field validator
        if self.district_id and self.district.code != county:
            raise ValidationError({"district": f"行政区应与不动产单元号前6位“{county}”一致"})


class HolderKind(models.TextChoices):
    PERSON = "PERSON", "自然人"
    ORGANISATION = "ORGANISATION", "法人或其他组织"


class IdType(models.TextChoices):
    """Holder ID type codes, GB/T 36903 annex."""

    USCC = "001", "统一社会信用代码"
    OTHER_ORG = "099", "其他机构代码"
    RESIDENT_ID = "111", "居民身份证"
    PLA_OFFICER = "114", "中国人民解放军军官证"
    PASSPORT = "414", "普通护照"
    TAIWAN_PERMIT = "511", "台湾居民来往大陆通行证"
    HK_MACAO_PERMIT = "516", "港澳居民来往内地通行证"
    OTHER_PERSONAL = "999", "其他个人证件"


class Holder(models.Model):
    """A person or organisation that holds (or is obliged by) licences.

    The ID number is stored only encrypted (`id_number_ciphertext`), found through a keyed
    blind index (`id_number_index`) and shown through its masked form (`id_number_masked`).
    """

    kind = models.CharField("主体类别", max_length=12, choices=HolderKind.choices)
    name = models.CharField("名称/姓名", max_length=100, db_index=True)
    id_type = models.CharField("证件类型", max_length=3, choices=IdType.choices)
    id_number_ciphertext = models.TextField("证件号码（密文）", editable=False)
    id_number_index = models.CharField("证件号码索引", max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField("证件号码", max_length=40, editable=False)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("通讯地址", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "权利人"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number_index"], name="holder_unique_id_number"),
        ]

    def __str__(self):
        return f"{self.name}（{self.id_number_masked}）"


class OrganisationType(models.TextChoices):
    BANK = "BANK", "银行"
    NOTARY = "NOTARY", "公证机构"
    COURT = "COURT", "法院"
    GOVERNMENT = "GOVERNMENT", "政府部门"
    OTHER = "OTHER", "其他"


class Purpose(models.Model):
    """Why an organisation uses a licence; decides whether consent or a legal basis is needed."""

    class Basis(models.TextChoices):
        CONSENT = "CONSENT", "需权利人授权"
        LEGAL = "LEGAL", "需法定依据"

    code = models.CharField("用途代码", max_length=30, unique=True)
    name = models.CharField("用途名称", max_length=60)
    basis = models.CharField("依据", max_length=10, choices=Basis.choices)

    class Meta:
        verbose_name = verbose_name_plural = "用证事由"
        ordering = ["code"]

    def __str__(self):
        return self.name


class RequestingOrganisation(models.Model):
    """A bank, notary, court or department that uses licences (用证方)."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "正常"
        SUSPENDED = "SUSPENDED", "暂停"

    name = models.CharField("机构名称", max_length=100, unique=True)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    org_type = models.CharField("机构类型", max_length=12, choices=OrganisationType.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    administrator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="电子证照管理专人",
        help_text="《规范》第五条指定的专人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="administered_organisations",
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    purposes = models.ManyToManyField(Purpose, verbose_name="可声明的用证事由", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用证机构"
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationMember(models.Model):
    """A user acting for a requesting organisation."""

    class Role(models.TextChoices):
        ADMIN = "ADMIN", "机构管理员"
        OPERATOR = "OPERATOR", "机构操作员"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="organisation_membership"
    )
    organisation = models.ForeignKey(
        RequestingOrganisation, verbose_name="机构", on_delete=models.CASCADE, related_name="members"
    )
    role = models.CharField("角色", max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = verbose_name_plural = "机构人员"

    def __str__(self):
        return f"{self.organisation} · {self.user} · {self.get_role_display()}"
