"""Admin forms. The ID number is write-only: typed in, handed to the service, never rendered back."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from registry import services
from registry.models import Holder, IdType, PropertyUnit
from registry.validators import normalise_id_number


def looks_like_id_number(term: str) -> bool:
    """A search term that is probably a document number rather than a name: search it by index."""
    normalised = normalise_id_number(term)
    return bool(re.fullmatch(r"[0-9A-Z]{6,30}", normalised)) and sum(c.isdigit() for c in normalised) >= 4


class WriteOnlyTextInput(forms.TextInput):
    """A text input that never renders a value, so a re-displayed form cannot leak the number."""

    def format_value(self, value):
        return None

    def get_context(self, name, value, attrs):
        attrs = {**(attrs or {}), "autocomplete": "off", "spellcheck": "false"}
        return super().get_context(name, None, attrs)


class HolderAdminForm(forms.ModelForm):
    id_number = forms.CharField(
        label="证件号码",
        max_length=40,
        required=False,
        strip=True,
        widget=WriteOnlyTextInput(attrs={"size": 30}),
        help_text="加密保存，只显示脱敏形式；修改时留空表示不变。",
    )

    class Meta:
        model = Holder
        fields = ["kind", "name", "id_type", "id_number", "phone", "address"]

    @sensitive_variables("id_number")
    def clean(self):
        cleaned = super().clean()
        kind, id_type = cleaned.get("kind"), cleaned.get("id_type")
        id_number = cleaned.get("id_number") or ""
        if not self.instance.pk and not id_number:
            self.add_error("id_number", "请填写证件号码")
            return cleaned
        if kind and id_type:
            try:
                services.holder_check(kind=kind, id_type=id_type, id_number=id_number or None, holder=self.instance)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
        return cleaned


class HolderLookupForm(forms.Form):
    id_type = forms.ChoiceField(label="证件类型", choices=[("", "任意类型"), *IdType.choices], required=False)
    id_number = forms.CharField(label="证件号码", max_length=40, widget=WriteOnlyTextInput(attrs={"size": 30}))


class PropertyUnitAdminForm(forms.ModelForm):
    class Meta:
        model = PropertyUnit
        fields = [
            "unit_number",
            "location",
            "right_type",
            "right_nature",
            "use",
            "land_area",
            "building_area",
            "term_start",
            "term_end",
            "other_status",
        ]

    def clean_unit_number(self):
        value = self.cleaned_data["unit_number"].strip()
        try:
            services.district_for_unit_number(value)  # the first six characters must be a Beijing district
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["unit_number"]) from None
        return value

    def _post_clean(self):
        # The district is derived from the unit number by the service, not typed in.
        if not self.instance.pk and self.cleaned_data.get("unit_number"):
            # clean_unit_number has already checked this lookup succeeds.
            self.instance.district = services.district_for_unit_number(self.cleaned_data["unit_number"])
        super()._post_clean()


class CsvImportForm(forms.Form):
    file = forms.FileField(label="CSV 文件", help_text="UTF-8 或 GBK 编码，第一行为列名。")
