"""The organisation API (/api/v1/): thin callers of `access.permissions`, `access.selectors` and
`access.services`.

Every licence endpoint needs `X-Purpose`; every read, granted or refused, leaves one audit
event (license.read / license.download) naming organisation, key, person, purpose, the fields
returned and the result. A licence the caller may not see answers exactly like one that does
not exist (`exceptions.not_found`). Purpose errors do not depend on any licence: a missing or
unknown code is 400, a purpose the organisation may not declare at all is 403; a declarable
purpose that no grant of this licence covers is 404, like every other refusal of a licence.
"""

from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from access import permissions, selectors, services
from access.api import serializers as s
from access.api.exceptions import ApiError, api_exception_handler, not_found
from access.authentication import ApiKeyAuthentication
from access.models import AnnotatedCopy, ApiKey
from access.throttling import ApiKeyRateThrottle
from audit.context import acting_as
from audit.services import record_event
from licensing.models import LicenseStatus

PURPOSE_HEADER = OpenApiParameter(
    "X-Purpose",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="用证事由代码（如 MORTGAGE_LOAN、NOTARISATION、LITIGATION、GOVERNMENT_SERVICE），须为授权所允许",
)
IDENTIFIER = OpenApiParameter("identifier", OpenApiTypes.STR, OpenApiParameter.PATH, description="电子证照标识")
ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="缺少或无效的 X-Purpose、查询参数错误"),
    401: OpenApiResponse(s.ErrorSerializer, description="未认证或密钥无效"),
    403: OpenApiResponse(s.ErrorSerializer, description="非用证机构、机构暂停、事由不允许"),
    404: OpenApiResponse(s.ErrorSerializer, description="证照不存在或无权查看（两者无法区分）"),
    429: OpenApiResponse(s.ErrorSerializer, description="超出频率限制，见 Retry-After"),
}


def client_organisation(request):
    """The organisation a request acts for: the key's (while its person still belongs to it), or
    the session user's."""
    if isinstance(request.auth, ApiKey):
        key = request.auth
        return key.organisation if permissions.organisation_of(key.user) == key.organisation else None
    return permissions.organisation_of(request.user)


class OrganisationClient(BasePermission):
    def has_permission(self, request, view):
        organisation = client_organisation(request)
        if organisation is None:
            raise ApiError(
                code="not_an_organisation", message="仅用证机构的人员或其接口密钥可以使用此接口", status_code=403
            )
        if not permissions.organisation_active(organisation):
            raise ApiError(code="organisation_suspended", message="本机构已暂停用证", status_code=403)
        return True


class LicensePagination(CursorPagination):
    """Cursor pages: no COUNT over the organisation's licences, stable under inserts."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class OrganisationAPIView(GenericAPIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, OrganisationClient]
    throttle_classes = [ApiKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    requires_purpose = True
    pagination_class = None

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        self.organisation = client_organisation(request)
        self.api_key = request.auth if isinstance(request.auth, ApiKey) else None
        # Key authentication happens after the middleware: set the audit actor for the view's work.
        self._audit_context = acting_as(request.user, organisation=self.organisation, api_key=self.api_key)
        self._audit_context.__enter__()
        self.purpose = None
        if self.requires_purpose:
            try:
                self.purpose = permissions.resolve_purpose(self.organisation, request.headers.get("X-Purpose"))
            except permissions.PurposeError as exc:
                raise ApiError(code=exc.code, message=exc.message, status_code=exc.status, field="X-Purpose") from exc

    def finalize_response(self, request, response, *args, **kwargs):
        try:
            return super().finalize_response(request, response, *args, **kwargs)
        finally:
            context = self.__dict__.pop("_audit_context", None)
            if context is not None:
                context.__exit__(None, None, None)

    # --- audit ---
    def record(self, *, action, license=None, fields, result="SUCCESS", reason="", **extra):
        return record_event(
            action=action,
            actor=self.request.user,
            target=license,
            organisation=self.organisation,
            api_key=self.api_key,
            purpose=self.purpose.code if self.purpose else "",
            result=result,
            reason=reason,
            details={"fields": fields, **extra},
        )

    def refuse(self, identifier, action="license.read"):
        """Record the refused read, then answer exactly as for a licence that does not exist."""
        self.record(
            action=action, fields=[], result="DENIED", reason="not_found_or_not_permitted", identifier=identifier[:120]
        )
        return not_found()


@extend_schema(
    summary="列出本机构可查看的电子证照",
    parameters=[PURPOSE_HEADER],
    responses={200: s.LicenseListItemSerializer(many=True), **ERRORS},
)
class LicenseListView(OrganisationAPIView):
    pagination_class = LicensePagination
    serializer_class = s.LicenseListItemSerializer
    filter_serializer = s.LicenseFilterSerializer

    @extend_schema(parameters=[PURPOSE_HEADER, s.LicenseFilterSerializer])
    def get(self, request):
        filters = s.LicenseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.list_licenses(self.organisation, self.purpose, filters=filters.validated_data)
        page = self.paginate_queryset(qs)
        items = [selectors.list_item(lic) for lic in page]
        self.record(
            action="license.read",
            fields=selectors.LIST_FIELDS,
            identifiers=[i["identifier"] for i in items],
            filters={k: str(v) for k, v in filters.validated_data.items()},
        )
        return self.get_paginated_response(items)


class LicenseView(OrganisationAPIView):
    def get_license(self, identifier):
        return selectors.license_by_identifier(identifier)


@extend_schema(
    summary="电子证照详情（按字段策略返回）",
    parameters=[IDENTIFIER, PURPOSE_HEADER],
    responses={200: s.LicenseDetailSerializer, **ERRORS},
)
class LicenseDetailView(LicenseView):
    def get(self, request, identifier):
        license = selectors.license_with_parties(identifier)
        with transaction.atomic():
            access = permissions.access_for(self.organisation, self.purpose, license, consume=True)
            if access is not None:
                payload = selectors.license_payload(license, access.plan)
                self.record(action="license.read", license=license, fields=access.plan.returned_fields())
        if access is None:
            raise self.refuse(identifier)
        return Response(payload)


@extend_schema(
    summary="电子证照状态",
    parameters=[IDENTIFIER, PURPOSE_HEADER],
    responses={200: s.LicenseStatusSerializer, **ERRORS},
)
class LicenseStatusView(LicenseView):
    FIELDS = ["identifier", "status", "status_changed_at", "reason", "superseded_by"]

    def get(self, request, identifier):
        license = self.get_license(identifier)
        with transaction.atomic():
            access = permissions.access_for(self.organisation, self.purpose, license, consume=True)
            if access is not None:
                successor = _successor(license)
                visible = successor is not None and permissions.may_see(self.organisation, self.purpose, successor)
                final = license.status != LicenseStatus.VALID
                payload = {
                    "identifier": license.identifier,
                    "status": license.status,
                    "status_label": license.get_status_display(),
                    "status_changed_at": license.status_changed_at.isoformat() if license.status_changed_at else None,
                    "reason": (license.status_reason or None) if final else None,
                    "reason_label": (license.get_status_reason_display() or None)
                    if final and license.status_reason
                    else None,
                    "superseded_by": successor.identifier if visible else None,
                }
                fields = [f for f in self.FIELDS if f != "superseded_by" or visible]
                self.record(action="license.read", license=license, fields=fields)
        if access is None:
            raise self.refuse(identifier)
        return Response(payload)


def _successor(license):
    """The licence that superseded this one (换证/补证/转移), if any."""
    try:
        return license.superseded_by
    except license.__class__.superseded_by.RelatedObjectDoesNotExist:
        return None


@extend_schema(
    summary="下载签章 PDF（须字段策略允许完整文件）",
    parameters=[IDENTIFIER, PURPOSE_HEADER],
    responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
)
class LicenseFileView(LicenseView):
    renderer_classes = [JSONRenderer, s.PdfRenderer]

    def get(self, request, identifier):
        license = self.get_license(identifier)
        if permissions.access_for(self.organisation, self.purpose, license, consume=False) is None:
            raise self.refuse(identifier, action="license.download")
        stored = (
            license.cancelled_file
            if license.status == LicenseStatus.CANCELLED and license.cancelled_file
            else license.file
        )
        with transaction.atomic():
            access = permissions.access_for(self.organisation, self.purpose, license, consume=True, need="file")
            if access is not None and stored:
                self.record(action="license.download", license=license, fields=["file"])
        if access is None:
            self.record(
                action="license.download", license=license, fields=[], result="DENIED", reason="file_not_permitted"
            )
            raise ApiError(
                code="file_not_permitted", message="字段策略不允许本机构以此事由获取完整签章文件", status_code=403
            )
        if not stored:
            raise ApiError(code="file_unavailable", message="该证照暂无签章文件", status_code=409)
        return FileResponse(
            stored.open("rb"), content_type="application/pdf", filename=f"{license.identifier}.pdf", as_attachment=True
        )


def _copy_payload(request, copy) -> dict:
    now = timezone.now()
    ready = copy.state == AnnotatedCopy.State.READY
    return {
        "id": str(copy.id),
        "state": copy.state,
        "identifier": copy.identifier,
        "license_identifier": copy.license.identifier,
        "purpose": copy.purpose.code,
        "watermark": copy.watermark,
        "valid_until": copy.valid_until.isoformat(),
        "expired": copy.valid_until <= now,
        "file_sha256": copy.file_sha256,
        "download_url": request.build_absolute_uri(f"{request.path.rstrip('/')}/file") if ready else None,
    }


@extend_schema(
    summary="申请加注件（异步制作）",
    parameters=[IDENTIFIER, PURPOSE_HEADER],
    request=None,
    responses={202: s.AnnotatedCopySerializer, **ERRORS},
)
class AnnotatedCopyCreateView(LicenseView):
    def post(self, request, identifier):
        license = self.get_license(identifier)
        with transaction.atomic():
            access = permissions.access_for(self.organisation, self.purpose, license, consume=True)
            if access is not None:
                copy = services.annotated_copy_request(
                    license=license,
                    organisation=self.organisation,
                    purpose=self.purpose,
                    access=access,
                    api_key=self.api_key,
                    actor=request.user,
                )
                self.record(
                    action="license.read",
                    license=license,
                    fields=access.plan.returned_fields(),
                    annotated_copy=str(copy.id),
                )
        if access is None:
            raise self.refuse(identifier)
        request_path = f"{request.path.rstrip('/')}/{copy.id}"
        payload = _copy_payload(request, copy)
        payload["download_url"] = None
        return Response(payload, status=status.HTTP_202_ACCEPTED, headers={"Location": request_path})


class AnnotatedCopyMixin:
    def get_copy(self, identifier, copy_id):
        """The caller's own copy, made for the stated purpose, whose grant is still unrevoked."""
        copy = (
            AnnotatedCopy.objects.select_related("license", "purpose", "authorisation", "statutory_grant")
            .filter(pk=copy_id, organisation=self.organisation, purpose=self.purpose, license__identifier=identifier)
            .first()
        )
        if copy is None:
            return None
        grant = copy.authorisation or copy.statutory_grant
        if grant is None or grant.revoked_at is not None:
            return None
        return copy


@extend_schema(
    summary="加注件状态", parameters=[IDENTIFIER, PURPOSE_HEADER], responses={200: s.AnnotatedCopySerializer, **ERRORS}
)
class AnnotatedCopyView(AnnotatedCopyMixin, LicenseView):
    def get(self, request, identifier, copy_id):
        copy = self.get_copy(identifier, copy_id)
        if copy is None:
            raise not_found()
        return Response(_copy_payload(request, copy))


@extend_schema(
    summary="下载加注件",
    parameters=[IDENTIFIER, PURPOSE_HEADER],
    responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
)
class AnnotatedCopyFileView(AnnotatedCopyMixin, LicenseView):
    renderer_classes = [JSONRenderer, s.PdfRenderer]

    def get(self, request, identifier, copy_id):
        copy = self.get_copy(identifier, copy_id)
        if copy is None or copy.valid_until <= timezone.now():
            raise self.refuse(identifier, action="license.download")
        if copy.state != AnnotatedCopy.State.READY:
            raise ApiError(
                code="copy_not_ready", message=f"加注件尚未制作完成（{copy.get_state_display()}）", status_code=409
            )
        self.record(
            action="license.download",
            license=copy.license,
            fields=["annotated_copy"],
            annotated_copy=str(copy.id),
            annotated_identifier=copy.identifier,
        )
        return FileResponse(
            copy.file.open("rb"), content_type="application/pdf", filename=f"{copy.identifier}.pdf", as_attachment=True
        )


class UsagePagination(CursorPagination):
    ordering = "-seq"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(summary="本机构的用证记录", responses={200: s.UsageSerializer(many=True), **ERRORS})
class UsageView(OrganisationAPIView):
    requires_purpose = False
    pagination_class = UsagePagination
    serializer_class = s.UsageSerializer

    def get(self, request):
        from audit.models import AuditEvent

        qs = AuditEvent.objects.filter(
            organisation=self.organisation, action__in=["license.read", "license.download"]
        ).select_related("actor")
        page = self.paginate_queryset(qs)
        items = [
            {
                "seq": e.seq,
                "occurred_at": e.occurred_at.isoformat(),
                "action": e.action,
                "result": e.result,
                "license_identifier": e.license_identifier,
                "purpose": e.purpose,
                "person": e.actor.get_username() if e.actor else e.actor_repr,
                "api_key": e.api_key_repr,
                "fields": list((e.details or {}).get("fields", [])),
            }
            for e in page
        ]
        return self.get_paginated_response(items)


@extend_schema(summary="连通性检查（已认证）", responses={200: s.PingSerializer, **ERRORS})
class PingView(OrganisationAPIView):
    requires_purpose = False

    def get(self, request):
        return Response(
            {"organisation": self.organisation.name, "api_key": self.api_key.prefix if self.api_key else None}
        )
