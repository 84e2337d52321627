"""The auditors' search form: every filter optional, each checked with a clear message."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from audit.actions import ACTIONS
from audit.models import AuditResult
from registry.models import RequestingOrganisation


class EventSearchForm(forms.Form):
    license_identifier = forms.CharField(label="电子证照标识", required=False, max_length=100)
    certificate_number = forms.CharField(label="证书（证明）号", required=False, max_length=60)
    # A text field, not a <select>: hundreds of organisations would be rendered on every page.
    organisation = forms.CharField(label="用证机构（名称、统一社会信用代码或编号）", required=False, max_length=100)
    actor = forms.CharField(label="操作人（用户名）", required=False, max_length=150)
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部"), *ACTIONS.items()])
    result = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *AuditResult.choices])
    start = forms.DateTimeField(
        label="起始时间", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label="截止时间", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean_license_identifier(self):
        return self.cleaned_data["license_identifier"].strip()

    def clean_certificate_number(self):
        return self.cleaned_data["certificate_number"].strip()

    def clean_organisation(self):
        value = self.cleaned_data["organisation"].strip()
        if not value:
            return None
        query = Q(name=value) | Q(uscc=value.upper())
        if value.isdigit():
            query |= Q(pk=int(value))
        organisation = RequestingOrganisation.objects.filter(query).first()
        if organisation is None:
            raise forms.ValidationError(f"没有名称、统一社会信用代码或编号为“{value}”的用证机构")
        return organisation

    def clean_actor(self):
        username = self.cleaned_data["actor"].strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"没有用户名为“{username}”的用户")
        return user

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start >= end:
            self.add_error("end", "截止时间必须晚于起始时间")
        return cleaned

    def filters(self) -> dict:
        """The cleaned filters as keyword arguments of `audit.selectors.event_search`."""
        data = self.cleaned_data
        return {
            "license_identifier": data.get("license_identifier") or "",
            "certificate_number": data.get("certificate_number") or "",
            "organisation": data.get("organisation"),
            "actor": data.get("actor"),
            "action": data.get("action") or "",
            "result": data.get("result") or "",
            "start": data.get("start"),
            "end": data.get("end"),
        }

    def described_filters(self) -> dict:
        """The filters as plain JSON, for the export's own audit event."""
        out = {}
        for name, value in self.filters().items():
            if value in (None, ""):
                continue
            if name == "organisation":
                value = value.pk
            elif name == "actor":
                value = value.get_username()
            elif name in ("start", "end"):
                value = value.isoformat()
            out[name] = value
        return out
