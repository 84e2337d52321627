"""Serializers of the organisation API: query validation and the documented response shapes.

Responses are built by `access.selectors` from the field plan; these classes describe them for
the OpenAPI document (every licence field is optional: absent means the caller may not see it).
"""

import json

from rest_framework import renderers, serializers

from licensing.models import CancellationReason, LicenseStatus
from registry.models import IdType, LicenseKind


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="机器可读的错误代码，如 purpose_required、not_found、rate_limited")
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True, help_text="出错的字段、查询参数或请求头（如 X-Purpose）")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class LicenseFilterSerializer(serializers.Serializer):
    # Patterns, not just lengths: the OpenAPI document then says exactly what is accepted.
    certificate_number = serializers.RegexField(
        r"^京[(（]\d{4}[)）][\u4e00-\u9fff]{2,10}不动产(权|证明)第\d{7}号$",
        required=False,
        max_length=60,
        help_text="完整的证书（证明）号，如 京(2026)朝阳区不动产权第0001234号",
    )
    unit_number = serializers.RegexField(
        r"^[0-9A-Z]{28}$", required=False, help_text="28位不动产单元号，如 110105003001GB00012F00031201"
    )
    status = serializers.ChoiceField(required=False, choices=LicenseStatus.choices)
    kind = serializers.ChoiceField(required=False, choices=LicenseKind.choices)


class LicenseListItemSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    kind = serializers.ChoiceField(choices=LicenseKind.choices)
    license_type = serializers.CharField()
    status = serializers.ChoiceField(choices=LicenseStatus.choices)
    issued_at = serializers.DateTimeField(allow_null=True)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    certificate_number = serializers.CharField(help_text="脱敏证书（证明）号")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)


class PartySerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=[("HOLDER", "权利人"), ("OBLIGOR", "义务人")])
    name = serializers.CharField(required=False, help_text="按策略明文或脱敏（张*）")
    id_type = serializers.ChoiceField(required=False, choices=IdType.choices)
    id_number = serializers.CharField(required=False, help_text="默认脱敏（110105********1239）")
    share = serializers.CharField(required=False)


def _opt(field):
    field.required = False
    return field


class LicenseDetailSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    kind = serializers.ChoiceField(choices=LicenseKind.choices)
    status = serializers.ChoiceField(choices=LicenseStatus.choices)
    license_type = _opt(serializers.CharField())
    issuer = _opt(serializers.CharField())
    issued_at = _opt(serializers.DateTimeField(allow_null=True))
    status_changed_at = _opt(serializers.DateTimeField(allow_null=True))
    certificate_number = _opt(serializers.CharField(help_text="明文或脱敏"))
    unit_number = _opt(serializers.CharField())
    district = _opt(serializers.CharField())
    right_type = _opt(serializers.CharField())
    right_nature = _opt(serializers.CharField())
    use = _opt(serializers.CharField())
    term = _opt(PeriodSerializer())
    right_or_matter = _opt(serializers.CharField(allow_blank=True))
    location = _opt(serializers.CharField(help_text="完整坐落，或仅到楼栋（脱敏）"))
    co_ownership = _opt(serializers.CharField())
    land_area = _opt(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    building_area = _opt(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    other_status = _opt(serializers.CharField(allow_blank=True))
    notes = _opt(serializers.CharField(allow_blank=True))
    secured_amount = _opt(serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True))
    debt_term = _opt(PeriodSerializer())
    encumbered_certificate_number = _opt(serializers.CharField(allow_blank=True))
    holders = _opt(PartySerializer(many=True))
    file_available = serializers.BooleanField(help_text="能否下载签章文件（须字段策略允许 L4）")


class LicenseStatusSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    status = serializers.ChoiceField(choices=LicenseStatus.choices)
    status_label = serializers.CharField()
    status_changed_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.ChoiceField(choices=CancellationReason.choices, allow_null=True, help_text="注销/撤销原因类别")
    reason_label = serializers.CharField(allow_null=True)
    superseded_by = serializers.CharField(allow_null=True, help_text="取代本证照的证照标识（仅当调用方有权查看时）")


class AnnotatedCopySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=[("PENDING", "制作中"), ("READY", "已完成"), ("FAILED", "失败")])
    identifier = serializers.CharField(allow_null=True, help_text="加注件自身的电子证照标识")
    license_identifier = serializers.CharField()
    purpose = serializers.CharField()
    watermark = serializers.CharField()
    valid_until = serializers.DateTimeField()
    expired = serializers.BooleanField()
    file_sha256 = serializers.CharField(allow_blank=True)
    download_url = serializers.CharField(allow_null=True)


class UsageSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    result = serializers.CharField()
    license_identifier = serializers.CharField(allow_blank=True)
    purpose = serializers.CharField(allow_blank=True)
    person = serializers.CharField(allow_blank=True)
    api_key = serializers.CharField(allow_blank=True)
    fields = serializers.ListField(child=serializers.CharField())


class PingSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    api_key = serializers.CharField(allow_null=True)


class PdfRenderer(renderers.BaseRenderer):
    """Lets clients ask for `application/pdf`; errors still go back as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, ensure_ascii=False).encode()
