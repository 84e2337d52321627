"""Admin for commission clerks, approvers and archivists: thin callers of `licensing.services`.

Drafts are created and edited through the services (with their parties inline); every
lifecycle move is a button on the licence's page that opens a small form and calls one service.
Errors the user can cause come back on the form, with the input kept, never as a server error.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.services import record_event
from licensing import permissions, services
from licensing.models import (
    ArchivePackage,
    CancellationReason,
    CancellationRequest,
    License,
    LicenseHolder,
    LicenseStatus,
    StatusEvent,
)
from registry.admin_errors import ServiceRefusalsOnTheForm

S = LicenseStatus


def _error_text(exc: ValidationError) -> str:
    return "；".join(m for m in exc.messages)


class LicenseHolderInline(admin.TabularInline):
    model = LicenseHolder
    extra = 1
    fields = ["holder", "role", "share", "position"]
    autocomplete_fields = ["holder"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == S.DRAFT

    has_add_permission = has_delete_permission = has_change_permission


class StatusEventInline(admin.TabularInline):
    model = StatusEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "action", "from_status", "to_status", "reason", "note", "actor"]
    verbose_name_plural = "状态历史"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ArchivePackageInline(admin.TabularInline):
    model = ArchivePackage
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "archive_number",
        "status_at_filing",
        "retention",
        "package_sha256",
        "filed_by",
        "filed_at",
    ]
    verbose_name_plural = "归档记录"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ActionForm(forms.Form):
    note = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class CancelForm(ActionForm):
    reason = forms.ChoiceField(
        label="注销原因",
        choices=[
            (c.value, c.label)
            for c in CancellationReason
            if c not in services.REASONS_WITH_OWN_SERVICE and c != CancellationReason.ISSUED_IN_ERROR
        ],
    )


class ReplaceForm(ActionForm):
    reason = forms.ChoiceField(
        label="办理类型",
        choices=[(CancellationReason.REPLACEMENT, "换证"), (CancellationReason.REISSUE, "补证（遗失补发）")],
    )


# name -> (button label, form, service call, statuses where the button shows, permission action)
LICENSE_ACTIONS = {
    "issue": ("签发", None, lambda lic, u, d: services.license_issue(license=lic, actor=u), [S.DRAFT], "issue"),
    "cancel": (
        "注销",
        CancelForm,
        lambda lic, u, d: services.license_cancel(license=lic, actor=u, reason=d["reason"], note=d["note"]),
        [S.VALID],
        "cancel",
    ),
    "cancel_request": (
        "申请注销（签发错误）",
        ActionForm,
        lambda lic, u, d: services.license_cancel_request(license=lic, actor=u, note=d["note"]),
        [S.VALID],
        "cancel_request",
    ),
    "replace": (
        "换证/补证",
        ReplaceForm,
        lambda lic, u, d: services.license_replace(license=lic, actor=u, reason=d["reason"], note=d["note"]),
        [S.VALID],
        "replace",
    ),
    "suspend": (
        "暂停",
        ActionForm,
        lambda lic, u, d: services.license_suspend(license=lic, actor=u, note=d["note"]),
        [S.VALID],
        "suspend",
    ),
    "reinstate": (
        "恢复",
        ActionForm,
        lambda lic, u, d: services.license_reinstate(license=lic, actor=u, note=d["note"]),
        [S.SUSPENDED],
        "reinstate",
    ),
    "revoke": (
        "撤销",
        ActionForm,
        lambda lic, u, d: services.license_revoke(license=lic, actor=u, note=d["note"]),
        [S.VALID],
        "revoke",
    ),
    "file": (
        "归档",
        None,
        lambda lic, u, d: services.license_file(license=lic, actor=u).license,
        [S.VALID, S.SUSPENDED, S.CANCELLED, S.REVOKED],
        "file",
    ),
}


@admin.register(License)
class LicenseAdmin(ServiceRefusalsOnTheForm, admin.ModelAdmin):
    list_display = ["__str__", "kind", "property_unit", "status", "issued_at", "identifier"]
    list_filter = ["status", "kind", "license_type", "issuer", "property_unit__district"]
    search_fields = ["=certificate_number", "=identifier", "=property_unit__unit_number"]
    list_select_related = ["property_unit"]
    show_full_result_count = False
    inlines = [LicenseHolderInline, StatusEventInline, ArchivePackageInline]
    actions = ["issue_selected"]
    autocomplete_fields = ["property_unit"]
    fieldsets = [
        ("证照", {"fields": ["kind", "license_type", "issuer", "property_unit", "co_ownership", "notes"]}),
        (
            "不动产登记证明",
            {
                "fields": [
                    "right_or_matter",
                    "secured_amount",
                    "debt_term_start",
                    "debt_term_end",
                    "encumbered_certificate_number",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "签发与状态",
            {
                "fields": [
                    "status",
                    "status_reason",
                    "status_note",
                    "status_changed_at",
                    "certificate_number",
                    "identifier",
                    "version",
                    "supersedes",
                    "superseded_by_link",
                    "issued_at",
                    "issued_by",
                    "signing_error",
                ]
            },
        ),
        ("签章文件", {"fields": ["file_link", "file_sha256", "signer_fingerprint", "signed_at", "preview"]}),
    ]
    readonly_fields = [
        "status",
        "status_reason",
        "status_note",
        "status_changed_at",
        "certificate_number",
        "identifier",
        "version",
        "supersedes",
        "superseded_by_link",
        "issued_at",
        "issued_by",
        "signing_error",
        "file_link",
        "file_sha256",
        "signer_fingerprint",
        "signed_at",
        "preview",
    ]

    # --- read-only display -------------------------------------------------------------
    @admin.display(description="被以下证照取代")
    def superseded_by_link(self, obj):
        newer = getattr(obj, "superseded_by", None) if obj.pk else None
        if not newer:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:licensing_license_change", args=[newer.pk]), newer)

    @admin.display(description="签章PDF")
    def file_link(self, obj):
        if not obj.pk or not obj.file:
            return "—"
        links = [format_html('<a href="{}">下载签章文件</a>', reverse("admin:licensing_license_file", args=[obj.pk]))]
        if obj.cancelled_file:
            url = reverse("admin:licensing_license_file", args=[obj.pk]) + "?rendition=cancelled"
            links.append(format_html('<a href="{}">下载注销版本（含水印）</a>', url))
        return format_html(" · ".join(["{}"] * len(links)), *links)

    @admin.display(description="首页预览")
    def preview(self, obj):
        if not obj.pk or not obj.file:
            return "—"
        return format_html(
            '<img src="{}" alt="首页预览" style="max-width:420px;border:1px solid #ccc">',
            reverse("admin:licensing_license_preview", args=[obj.pk]),
        )

    # --- permissions: only drafts are editable -------------------------------------------
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != S.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # licences are never deleted; drafts are simply left unissued

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    # --- saving goes through the services ------------------------------------------------
    def save_model(self, request, obj, form, change):
        pass  # saved with its parties in save_related, through the service

    def save_related(self, request, form, formsets, change):
        parties = []
        for formset in formsets:
            if formset.model is not LicenseHolder:
                continue
            for row in formset.cleaned_data:
                if row and not row.get("DELETE") and row.get("holder"):
                    parties.append(services.Party(row["holder"], row["role"], row.get("share", "")))
        fields = {name: form.cleaned_data[name] for name in services.DRAFT_FIELDS if name in form.cleaned_data}
        if change:
            license = services.license_update_draft(
                license=form.instance, actor=request.user, parties=parties, **fields
            )
        else:
            license = services.license_create_draft(actor=request.user, parties=parties, **fields)
        form.instance.pk = license.pk
        form.instance.__dict__.update({k: v for k, v in license.__dict__.items() if not k.startswith("_")})

    def construct_change_message(self, request, form, formsets, add=False):
        # The inline parties were saved by the service, not by the formsets.
        return super().construct_change_message(request, form, [], add)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["lifecycle_buttons"] = self._buttons(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _buttons(self, request, obj):
        if obj is None or not obj.pk:
            return []
        return [
            (label, reverse("admin:licensing_license_action", args=[obj.pk, name]))
            for name, (label, _form, _call, statuses, perm) in LICENSE_ACTIONS.items()
            if obj.status in statuses and permissions.can(request.user, perm)
        ]

    # --- the lifecycle actions ----------------------------------------------------------
    @admin.action(description="签发所选草稿", permissions=["issue"])
    def issue_selected(self, request, queryset):
        issued = 0
        for license in queryset:
            try:
                services.license_issue(license=license, actor=request.user)
                issued += 1
            except ValidationError as exc:
                self.message_user(request, f"{license}：{_error_text(exc)}", messages.ERROR)
        if issued:
            self.message_user(request, f"已签发 {issued} 份证照，正在签章", messages.SUCCESS)

    def has_issue_permission(self, request):
        return permissions.can(request.user, "issue")

    def get_urls(self):
        own = [
            path(
                "<int:pk>/action/<str:name>/",
                self.admin_site.admin_view(self.action_view),
                name="licensing_license_action",
            ),
            path("<int:pk>/file/", self.admin_site.admin_view(self.file_view), name="licensing_license_file"),
            path(
                "<int:pk>/preview.png", self.admin_site.admin_view(self.preview_view), name="licensing_license_preview"
            ),
        ]
        return own + super().get_urls()

    def action_view(self, request, pk, name):
        if name not in LICENSE_ACTIONS:
            raise Http404("未知操作")
        label, form_class, call, _statuses, perm = LICENSE_ACTIONS[name]
        license = get_object_or_404(License, pk=pk)
        if not permissions.can(request.user, perm):
            raise PermissionDenied
        change_url = reverse("admin:licensing_license_change", args=[pk])
        form = (form_class or ActionForm)(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = call(license, request.user, form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                self.message_user(request, f"{label}：已完成", messages.SUCCESS)
                if isinstance(result, License) and result.pk != license.pk:
                    return HttpResponseRedirect(reverse("admin:licensing_license_change", args=[result.pk]))
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}：{license}",
            "license": license,
            "form": form,
            "action_label": label,
            "cancel_url": change_url,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/licensing/action_form.html", context)

    def _file_for(self, request, license):
        if not permissions.can(request.user, "download") or not license.file:
            raise Http404("没有可下载的签章文件")
        cancelled = request.GET.get("rendition") == "cancelled"
        return license.cancelled_file if cancelled and license.cancelled_file else license.file

    def file_view(self, request, pk):
        license = get_object_or_404(License, pk=pk)
        stored = self._file_for(request, license)
        record_event(action="license.download", actor=request.user, target=license, details={"file": stored.name})
        return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{license.identifier}.pdf")

    def preview_view(self, request, pk):
        license = get_object_or_404(License, pk=pk)
        stored = self._file_for(request, license)
        from licensing.rendering import preview_png  # needs poppler; only loaded when a preview is asked for

        with stored.open("rb") as fh:
            png = preview_png(fh.read())
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "private, max-age=300"
        return response


@admin.register(CancellationRequest)
class CancellationRequestAdmin(admin.ModelAdmin):
    """The approval queue for cancellations of licences issued in error."""

    list_display = ["license", "reason", "status", "requested_by", "requested_at", "decided_by"]
    list_filter = ["status"]
    readonly_fields = [
        "license",
        "reason",
        "note",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # requests are made from the licence's page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        buttons = []
        if obj and obj.status == CancellationRequest.Status.PENDING and permissions.can(request.user, "cancel_approve"):
            buttons = [
                ("批准并注销", reverse("admin:licensing_cancellationrequest_decide", args=[obj.pk, "approve"])),
                ("驳回", reverse("admin:licensing_cancellationrequest_decide", args=[obj.pk, "reject"])),
            ]
        context["lifecycle_buttons"] = buttons
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_view),
                name="licensing_cancellationrequest_decide",
            )
        ]
        return own + super().get_urls()

    def decide_view(self, request, pk, decision):
        if decision not in ("approve", "reject"):
            raise Http404("未知操作")
        if not permissions.can(request.user, "cancel_approve"):
            raise PermissionDenied
        cancellation = get_object_or_404(CancellationRequest, pk=pk)
        back = reverse("admin:licensing_cancellationrequest_change", args=[pk])
        form = ActionForm(request.POST or None)
        label = "批准并注销" if decision == "approve" else "驳回"
        if request.method == "POST" and form.is_valid():
            try:
                if decision == "approve":
                    services.license_cancel_approve(
                        request=cancellation, actor=request.user, note=form.cleaned_data["note"]
                    )
                else:
                    services.license_cancel_reject(
                        request=cancellation, actor=request.user, note=form.cleaned_data["note"]
                    )
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                self.message_user(request, f"{label}：已完成", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:licensing_cancellationrequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}：{cancellation.license}",
            "license": cancellation.license,
            "form": form,
            "action_label": label,
            "cancel_url": back,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/licensing/action_form.html", context)
