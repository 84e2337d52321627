"""Admin for clerks: registry data, in Chinese. Thin: writes go through registry.services.

ID numbers on holders
- Lists, change pages and history show only `id_number_masked`; the form field for the number is
  write-only (never rendered back) and the number goes straight to holder_create/holder_update.
- Exact search by ID number goes through the keyed blind index. Django's search box is a GET form,
  which would put the number into the URL (browser history, proxy and access logs, Referer). So
  the holder list's search box is replaced by a POST form to the `lookup/` view ("按证件号码查找"):
  a term that looks like a document number is matched through the index and the clerk is
  redirected to the change page (a URL with only the primary key); any other term (a name) is
  passed on to the normal list search. A number that still arrives as `?q=` (a typed or old URL)
  is matched through the index too, but the list answers with a redirect to a URL without it
  rather than a page that echoes it back.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters

from registry import importing, services
from registry.forms import CsvImportForm, HolderAdminForm, HolderLookupForm, PropertyUnitAdminForm, looks_like_id_number
from registry.models import (
    District,
    Holder,
    Issuer,
    LicenseType,
    OrganisationMember,
    PropertyUnit,
    Purpose,
    RequestingOrganisation,
)


class CsvImportMixin:
    """A "导入CSV" page on the model's list (registry.importing decides what a row means)."""

    import_help = ""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{info[0]}_{info[1]}_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        result = file_error = None
        form = CsvImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = importing.IMPORTERS[self.model](form.cleaned_data["file"].read(), actor=request.user)
            except importing.ImportFileError as exc:
                file_error = str(exc)
            else:
                level = messages.SUCCESS if not result.errors else messages.WARNING
                self.message_user(
                    request,
                    f"导入完成：新增 {result.created} 条，更新 {result.updated} 条，拒绝 {len(result.errors)} 行。",
                    level,
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"导入{self.opts.verbose_name}（CSV）",
            "form": form,
            "result": result,
            "file_error": file_error,
            "columns": self.import_columns,
            "import_help": self.import_help,
        }
        return TemplateResponse(request, "admin/registry/import_csv.html", context)


# --- property units ---------------------------------------------------------------------


@admin.register(PropertyUnit)
class PropertyUnitAdmin(CsvImportMixin, admin.ModelAdmin):
    form = PropertyUnitAdminForm
    list_display = ["unit_number", "district", "location", "right_type", "right_nature", "use", "building_area"]
    list_filter = ["district", "right_type", "right_nature", "use"]
    search_fields = ["unit_number", "location"]
    list_select_related = ["district"]
    list_per_page = 50
    import_columns = (
        "不动产单元号、坐落、权利类型、权利性质、用途（必填）；土地面积、房屋面积、使用期限起、使用期限止、权利其他状况"
    )
    import_help = "行政区由不动产单元号前6位确定；已登记的单元号按新数据更新。"
    parts_fields = [
        "part_district",
        "part_parcel_code",
        "part_ownership",
        "part_parcel_type",
        "part_parcel_number",
        "part_fixture",
        "part_fixture_unit",
    ]

    def get_readonly_fields(self, request, obj=None):
        # The unit number identifies the unit for good: fixed once registered.
        return ["unit_number", *self.parts_fields] if obj else []

    def get_fieldsets(self, request, obj=None):
        facts = [
            "location",
            "right_type",
            "right_nature",
            "use",
            ("land_area", "building_area"),
            ("term_start", "term_end"),
            "other_status",
        ]
        if obj is None:
            return [(None, {"fields": ["unit_number", *facts]})]
        return [
            (None, {"fields": ["unit_number"]}),
            ("不动产单元号组成（GB/T 37346）", {"fields": self.parts_fields}),
            ("登记事项", {"fields": facts}),
        ]

    @admin.display(description="行政区（第1-6位）")
    def part_district(self, obj):
        p = obj.parts
        return f"{p.county_code} {p.district_name or '（非北京市区县）'}"

    @admin.display(description="宗地代码（第1-19位）")
    def part_parcel_code(self, obj):
        p = obj.parts
        return f"{p.parcel_code}（地籍区 {p.cadastral_district}，地籍子区 {p.cadastral_subdistrict}）"

    @admin.display(description="土地所有权类型（第13位）")
    def part_ownership(self, obj):
        return f"{obj.parts.ownership} {obj.parts.ownership_label}"

    @admin.display(description="宗地/宗海类型（第14位）")
    def part_parcel_type(self, obj):
        return f"{obj.parts.parcel_type} {obj.parts.parcel_type_label}"

    @admin.display(description="宗地顺序号（第15-19位）")
    def part_parcel_number(self, obj):
        return obj.parts.parcel_number

    @admin.display(description="定着物类型（第20位）")
    def part_fixture(self, obj):
        return f"{obj.parts.fixture_type} {obj.parts.fixture_type_label}"

    @admin.display(description="定着物单元编号（第21-28位）")
    def part_fixture_unit(self, obj):
        return f"幢 {obj.parts.building}，户 {obj.parts.unit}"

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in services.UNIT_FIELDS}
        values["other_status"] = values["other_status"] or ""
        if change:
            saved = services.property_unit_update(unit=obj, actor=request.user, **values)
        else:
            saved = services.property_unit_create(unit_number=obj.unit_number, actor=request.user, **values)
        obj.pk, obj.district = saved.pk, saved.district


# --- holders --------------------------------------------------------------------------------


@admin.register(Holder)
class HolderAdmin(CsvImportMixin, admin.ModelAdmin):
    form = HolderAdminForm
    list_display = ["name", "kind", "id_type", "id_number_masked", "phone"]
    list_filter = ["kind", "id_type"]
    search_fields = ["name"]
    list_per_page = 50
    import_columns = "名称/姓名、证件类型、证件号码（必填）；主体类别、联系电话、通讯地址"
    import_help = "证件号码加密保存；同一证件已存在时更新其名称和联系方式。证件类型可写代码（如 111）或名称。"

    def get_readonly_fields(self, request, obj=None):
        return ["id_number_masked"] if obj else []

    def get_fields(self, request, obj=None):
        fields = ["kind", "name", "id_type", "id_number", "phone", "address"]
        return [*fields[:3], "id_number_masked", *fields[3:]] if obj else fields

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("lookup/", self.admin_site.admin_view(self.lookup_view), name=f"{info[0]}_{info[1]}_lookup"),
            *super().get_urls(),
        ]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term and looks_like_id_number(search_term):
            by_index = queryset.filter(pk__in=services.holder_find(search_term).values("pk"))
            results = results | by_index
        return results, may_have_duplicates

    def changelist_view(self, request, extra_context=None):
        term = request.GET.get("q", "")
        if term and looks_like_id_number(term):
            return self._answer_id_lookup(request, services.holder_find(term))
        return super().changelist_view(request, extra_context)

    def _answer_id_lookup(self, request, found):
        """Redirect to the match(es) by primary key only: the number never goes back into a URL."""
        pks = list(found.values_list("pk", flat=True)[:50])
        changelist = reverse("admin:registry_holder_changelist")
        if len(pks) == 1:
            return HttpResponseRedirect(reverse("admin:registry_holder_change", args=[pks[0]]))
        if not pks:
            self.message_user(request, "未找到使用该证件号码的权利人。", messages.WARNING)
            return HttpResponseRedirect(changelist)
        self.message_user(request, f"该证件号码对应 {len(pks)} 个权利人（不同证件类型）。", messages.INFO)
        return HttpResponseRedirect(f"{changelist}?{urlencode({'id__in': ','.join(map(str, pks))})}")

    @method_decorator(sensitive_post_parameters("q", "id_number"))
    def lookup_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "q" in request.POST:
            # The list's search box: a number goes through the index, a name to the normal search.
            term = request.POST.get("q", "").strip()
            if term and looks_like_id_number(term):
                return self._answer_id_lookup(request, services.holder_find(term))
            params = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "p")}
            return HttpResponseRedirect(f"{reverse('admin:registry_holder_changelist')}?{urlencode(params)}")
        form = HolderLookupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._answer_id_lookup(
                request, services.holder_find(form.cleaned_data["id_number"], form.cleaned_data["id_type"] or None)
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "按证件号码查找权利人",
            "form": form,
        }
        return TemplateResponse(request, "admin/registry/holder/lookup.html", context)

    def save_model(self, request, obj, form, change):
        # The form ran the same checks (services.holder_check); the service repeats them and the
        # database constraint settles a concurrent duplicate.
        data = form.cleaned_data
        if change:
            saved = services.holder_update(
                holder=obj,
                kind=data["kind"],
                name=data["name"],
                id_type=data["id_type"],
                id_number=data.get("id_number") or services.UNSET,
                phone=data.get("phone", ""),
                address=data.get("address", ""),
                actor=request.user,
            )
        else:
            saved = services.holder_create(
                kind=data["kind"],
                name=data["name"],
                id_type=data["id_type"],
                id_number=data["id_number"],
                phone=data.get("phone", ""),
                address=data.get("address", ""),
                actor=request.user,
            )
        obj.pk = saved.pk
        obj.id_number_masked = saved.id_number_masked


# --- organisations and reference data ----------------------------------------------------


@admin.register(RequestingOrganisation)
class RequestingOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "org_type", "status", "administrator", "contact_name"]
    list_filter = ["org_type", "status", "purposes"]
    search_fields = ["name", "uscc", "contact_name"]
    filter_horizontal = ["purposes"]
    autocomplete_fields = ["administrator"]


@admin.register(OrganisationMember)
class OrganisationMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation__org_type"]
    search_fields = ["user__username", "user__first_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "basis"]
    list_filter = ["basis"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(LicenseType)
class LicenseTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "issuing_level", "validity"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "seal_name", "district", "is_active"]
    list_filter = ["is_active", "district"]
    search_fields = ["name", "uscc"]
