"""The public check page reached from a licence's QR code: `/v/<check_code>`.

Anyone may ask, so it shows only L1 data (type, issuer, issue date, status, masked number) and the
national verification answer codes. A file check compares the upload's SHA-256 with the files the
commission issued; nothing in an uploaded file is parsed (hostile PDFs cannot hurt a hash).
Every check is recorded in the audit chain.
"""

import hashlib

from django import forms
from django.conf import settings
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from audit.services import record_event
from licensing.models import License, LicenseStatus

# National practice: information check answers.
INFO_VALID, INFO_NOT_YET_ACTIVE, INFO_SUSPENDED, INFO_NO_LONGER_VALID, INFO_NOT_FOUND = 0, 1, 2, 3, 5
INFO_ANSWERS = {
    INFO_VALID: "有效",
    INFO_NOT_YET_ACTIVE: "信息正确，尚未生效",
    INFO_SUSPENDED: "暂时失效",
    INFO_NO_LONGER_VALID: "已失效",
    INFO_NOT_FOUND: "未查询到该证照",
}
FILE_PASSED, FILE_ALTERED = 0, 2
FILE_ANSWERS = {
    FILE_PASSED: "文件核验通过：与登记机构签发的文件一致",
    FILE_ALTERED: "文件核验未通过：文件被修改或并非本机构签发",
}
STATUS_ANSWERS = {
    LicenseStatus.VALID: INFO_VALID,
    LicenseStatus.PENDING_SIGNATURE: INFO_NOT_YET_ACTIVE,
    LicenseStatus.SUSPENDED: INFO_SUSPENDED,
    LicenseStatus.CANCELLED: INFO_NO_LONGER_VALID,
    LicenseStatus.REVOKED: INFO_NO_LONGER_VALID,
}


def mask_certificate_number(number: str) -> str:
    """`京(2026)朝阳区不动产权第0001234号` -> `京(2026)朝阳区不动产权第****234号`."""
    if not number or "第" not in number:
        return ""
    head, _, tail = number.rpartition("第")
    digits = tail.rstrip("号")
    return f"{head}第{'*' * (len(digits) - 3)}{digits[-3:]}号"


class FileCheckForm(forms.Form):
    file = forms.FileField(label="证照文件（PDF）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.PUBLIC_CHECK_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件过大：最大 {settings.PUBLIC_CHECK_MAX_UPLOAD_BYTES // 1024 // 1024} MB")
        return upload


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def _public_facts(license: License) -> dict:
    return {
        "title": license.license_type.name,
        "issuer": license.issuer.name,
        "issue_date": license.issued_at,
        "status": license.get_status_display(),
        "status_changed_at": license.status_changed_at if license.is_final else None,
        "number": mask_certificate_number(license.certificate_number or ""),
    }


@require_http_methods(["GET", "POST"])
def public_check(request, check_code: str):
    license = (
        License.objects.select_related("license_type", "issuer")
        .exclude(status=LicenseStatus.DRAFT)
        .filter(check_code=check_code.lower())
        .first()
    )
    answer = STATUS_ANSWERS[license.status] if license else INFO_NOT_FOUND
    context = {"license": license, "facts": _public_facts(license) if license else None, "answer": answer}
    context["answer_text"] = INFO_ANSWERS[answer]
    form = FileCheckForm()
    details = {"answer": answer, "check": "info"}
    if request.method == "POST" and license:
        form = FileCheckForm(request.POST, request.FILES)
        if form.is_valid():
            digest = _sha256(form.cleaned_data["file"])
            ours = License.objects.filter(
                Q(pk=license.pk) & (Q(file_sha256=digest) | Q(cancelled_file_sha256=digest))
            ).exists()
            context["file_answer"] = FILE_PASSED if ours else FILE_ALTERED
            context["file_answer_text"] = FILE_ANSWERS[context["file_answer"]]
            details = {"answer": answer, "check": "file", "file_answer": context["file_answer"], "sha256": digest}
    context["form"] = form
    record_event(
        action="license.verify",
        target=license,
        result="SUCCESS" if license else "FAILURE",
        reason="" if license else "not found",
        details=details,
    )
    return render(request, "licensing/public_check.html", context, status=200 if license else 404)
