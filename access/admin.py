"""Admin for keys, grants and organisation users. Thin: writes go through `access.services`.

The commission's system administrator sees and manages every organisation's keys and grants.
An organisation administrator (用证机构管理员) sees and manages only its own organisation's keys
and users; `access.permissions.managed_organisations` restricts every queryset and check.
A key's plaintext is shown once, in the message after it is issued; only its hash is stored.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from access import permissions, services
from access.models import AnnotatedCopy, ApiKey, Authorisation, OrganisationUser, StatutoryGrant
from access.policy import FIELDS
from registry import roles
from registry.admin_errors import ServiceRefusalsOnTheForm
from registry.models import OrganisationMember


def _report(request, exc):
    if isinstance(exc, ValidationError):
        for field, errors in exc.message_dict.items():
            return f"{field}: {'；'.join(errors)}"
    return str(exc)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["organisation", "user", "label", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceRefusalsOnTheForm, admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["label", "prefix", "organisation", "user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["organisation"]
    search_fields = ["label", "prefix"]
    actions = ["revoke_keys"]

    def _managed(self, request):
        return permissions.managed_organisations(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(organisation__in=self._managed(request))

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._managed(request).exists()

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj) and self._managed(request).exists()
        return allowed and (obj is None or permissions.can_manage_organisation(request.user, obj.organisation))

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._managed(request).exists()

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj) and self._managed(request).exists()
        return allowed and (obj is None or permissions.can_manage_organisation(request.user, obj.organisation))

    def has_delete_permission(self, request, obj=None):
        return False  # keys are revoked, never deleted: the audit trail names them

    def get_readonly_fields(self, request, obj=None):
        return ["organisation", "user", "label", "expires_at"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = self._managed(request)
        if db_field.name == "user":
            kwargs["queryset"] = OrganisationUser.objects.filter(
                organisation_membership__organisation__in=self._managed(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of a key is editable after issue
        data = form.cleaned_data
        key, plaintext = services.api_key_issue(
            organisation=data["organisation"],
            user=data["user"],
            label=data["label"],
            expires_at=data.get("expires_at"),
            actor=request.user,
        )
        obj.pk = key.pk
        messages.warning(request, f"接口密钥（仅显示这一次，请立即妥善保存）：{plaintext}")

    @admin.action(description="吊销所选密钥")
    def revoke_keys(self, request, queryset):
        done = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                services.api_key_revoke(api_key=key, actor=request.user, reason="管理后台吊销")
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{key}: {_report(request, exc)}", messages.ERROR)
        self.message_user(request, f"已吊销 {done} 个密钥")


class _GrantAdmin(ServiceRefusalsOnTheForm, admin.ModelAdmin):
    """Grants are recorded and revoked by the commission only, through the services."""

    def has_module_permission(self, request):
        return super().has_module_permission(request) and (
            permissions.can_manage_grants(request.user) or request.user.has_perm(f"access.view_{self.opts.model_name}")
        )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and permissions.can_manage_grants(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and permissions.can_manage_grants(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.opts.fields if f.name != "id"] + ["purposes"] if obj else []

    record = None  # the service that records this kind of grant (the actor is the user)
    record_fields: list[str] = []  # the form's values it takes, by the same names

    def save_model(self, request, obj, form, change):
        if change:
            return  # grants are revoked, never edited
        grant = self.record(actor=request.user, **{name: form.cleaned_data[name] for name in self.record_fields})
        obj.pk = grant.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if change:
            return
        super().save_related(request, form, formsets, change)


class AuthorisationForm(forms.ModelForm):
    # The database's check says the same; said here, the clerk reads it on the field instead of
    # Django's "constraint … is violated".
    max_uses = forms.IntegerField(
        label="最多使用次数", min_value=1, error_messages={"min_value": "最多使用次数至少为 1"}
    )
    fields = forms.MultipleChoiceField(
        label="授权字段",
        choices=[(f.name, f.label) for f in FIELDS.values()],
        initial=list(FIELDS),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Authorisation
        fields = ["license", "organisation", "holder", "purposes", "fields", "valid_until", "max_uses"]


@admin.register(Authorisation)
class AuthorisationAdmin(_GrantAdmin):
    form = AuthorisationForm
    list_display = ["id", "license", "organisation", "valid_until", "uses", "max_uses", "revoked_at"]
    list_filter = ["organisation"]
    raw_id_fields = ["license", "holder"]
    actions = ["revoke_by_holder", "revoke_by_commission"]

    record = staticmethod(services.authorisation_grant)
    record_fields = ["license", "organisation", "holder", "purposes", "fields", "valid_until", "max_uses"]

    def _revoke(self, request, queryset, by_holder):
        for grant in queryset.filter(revoked_at__isnull=True):
            services.authorisation_revoke(authorisation=grant, actor=request.user, by_holder=by_holder)
        self.message_user(request, "已撤回所选授权")

    @admin.action(description="按权利人要求撤回")
    def revoke_by_holder(self, request, queryset):
        self._revoke(request, queryset, True)

    @admin.action(description="登记机构撤销")
    def revoke_by_commission(self, request, queryset):
        self._revoke(request, queryset, False)


@admin.register(StatutoryGrant)
class StatutoryGrantAdmin(_GrantAdmin):
    list_display = ["id", "license", "organisation", "legal_document_number", "valid_until", "revoked_at"]
    list_filter = ["organisation"]
    raw_id_fields = ["license"]
    fields = ["license", "organisation", "legal_document_number", "purposes", "valid_until"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return None if obj else self.fields

    record = staticmethod(services.statutory_access_grant)
    record_fields = ["license", "organisation", "legal_document_number", "purposes", "valid_until"]

    @admin.action(description="撤销所选授权")
    def revoke(self, request, queryset):
        for grant in queryset.filter(revoked_at__isnull=True):
            services.statutory_access_revoke(grant=grant, actor=request.user)
        self.message_user(request, "已撤销所选授权")


@admin.register(AnnotatedCopy)
class AnnotatedCopyAdmin(admin.ModelAdmin):
    list_display = ["identifier", "license", "organisation", "purpose", "state", "valid_until", "created_at"]
    list_filter = ["state", "organisation"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationUserForm(forms.ModelForm):
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, required=False)
    role = forms.ChoiceField(label="角色", choices=OrganisationMember.Role.choices, initial="OPERATOR")

    class Meta:
        model = OrganisationUser
        fields = ["username", "first_name", "email", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Editing someone must show the role they have: a default would quietly demote an
        # administrator whose e-mail address is being corrected.
        membership = OrganisationMember.objects.filter(user_id=self.instance.pk).first() if self.instance.pk else None
        if membership is not None:
            self.fields["role"].initial = membership.role


@admin.register(OrganisationUser)
class OrganisationUserAdmin(ServiceRefusalsOnTheForm, admin.ModelAdmin):
    """An organisation administrator's view of its own people (accounts of other organisations
    and of the commission never appear)."""

    form = OrganisationUserForm
    list_display = ["username", "first_name", "is_active", "last_login"]
    search_fields = ["username", "first_name"]

    def _managed(self, request):
        return permissions.managed_organisations(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(organisation_membership__organisation__in=self._managed(request))

    def has_module_permission(self, request):
        return super().has_module_permission(request) and permissions.is_organisation_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and permissions.is_organisation_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and permissions.is_organisation_admin(request.user)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and permissions.is_organisation_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit trail names the person

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        organisation = permissions.organisation_of(request.user)
        if not permissions.can_manage_organisation(request.user, organisation):
            raise PermissionDenied
        if change and obj.pk == request.user.pk and not obj.is_active:
            raise ValidationError({"is_active": "不能停用自己的账户"})
        obj.is_staff = form.cleaned_data["role"] == OrganisationMember.Role.ADMIN
        obj.is_superuser = False
        if form.cleaned_data.get("password"):
            obj.set_password(form.cleaned_data["password"])
        elif not change:
            obj.set_unusable_password()
        obj.last_login = obj.last_login or None
        obj.date_joined = obj.date_joined or timezone.now()
        obj.save()
        role = form.cleaned_data["role"]
        OrganisationMember.objects.update_or_create(user=obj, defaults={"organisation": organisation, "role": role})
        group = roles.ORG_ADMIN if role == OrganisationMember.Role.ADMIN else roles.ORG_OPERATOR
        obj.groups.set([Group.objects.get(name=roles.GROUP_NAMES[group])])
