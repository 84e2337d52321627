"""Background work on licences. Tasks take ids, are idempotent, and call services.

Delivery is at-least-once (acks_late): a redelivered or duplicated task finds the licence no
longer in the state it expects and does nothing.
"""

import hashlib
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from licensing import services
from licensing.documents import license_document
from licensing.models import License, LicenseStatus
from licensing.rendering import render_license_pdf
from licensing.signing import sign_pdf

log = logging.getLogger(__name__)

# Errors worth retrying: the database or the timestamp authority may be back in a moment.
TRANSIENT_ERRORS = (DatabaseError, ConnectionError, TimeoutError)
MAX_SIGNING_RETRIES = 5
CANCELLED_WATERMARK = "已注销"


@shared_task(bind=True, acks_late=True, max_retries=MAX_SIGNING_RETRIES)
def sign_license_task(self, license_id: int) -> str:
    """Render, sign and store the licence, then make it VALID — all in one transaction.

    The row lock taken first serialises two workers handed the same licence: the second one
    waits, then finds it VALID and returns without writing anything.
    """
    try:
        with transaction.atomic():
            license = License.objects.select_for_update().get(pk=license_id)
            if license.status != LicenseStatus.PENDING_SIGNATURE:
                return "noop"
            signed = sign_pdf(render_license_pdf(license_document(license)))
            services.license_mark_signed(
                license_id=license_id,
                pdf=signed.data,
                signer_fingerprint=signed.signer_fingerprint,
                signed_at=signed.signed_at,
            )
        return "signed"
    except License.DoesNotExist:
        log.warning("sign_license_task: licence %s does not exist", license_id)
        return "missing"
    except TRANSIENT_ERRORS as exc:
        permanent = self.request.retries >= self.max_retries
        services.license_record_signing_error(
            license_id=license_id, error=f"{type(exc).__name__}: {exc}", permanent=permanent
        )
        if permanent:
            return "failed"
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 300)) from exc
    except Exception as exc:
        log.exception("sign_license_task: permanent failure for licence %s", license_id)
        services.license_record_signing_error(
            license_id=license_id, error=f"{type(exc).__name__}: {exc}", permanent=True
        )
        return "failed"


@shared_task(acks_late=True)
def render_cancelled_copy_task(license_id: int) -> str:
    """A cancelled licence gets a signed rendition with a visible 已注销 watermark.

    The original signed file stays untouched. Idempotent: done once per licence.
    """
    with transaction.atomic():
        license = License.objects.select_for_update().get(pk=license_id)
        if license.status != LicenseStatus.CANCELLED or license.cancelled_file or not license.file:
            return "noop"
        signed = sign_pdf(render_license_pdf(license_document(license), watermark=CANCELLED_WATERMARK))
        license.cancelled_file.save(f"{license.identifier}-cancelled.pdf", ContentFile(signed.data), save=False)
        license.cancelled_file_sha256 = hashlib.sha256(signed.data).hexdigest()
        license.save(update_fields=["cancelled_file", "cancelled_file_sha256", "updated_at"])
    return "rendered"


@shared_task
def reconcile_pending_signatures() -> int:
    """Re-enqueue licences left in PENDING_SIGNATURE (lost message, dead worker, Redis restart)."""
    stale_before = timezone.now() - timedelta(seconds=settings.SIGNING_RECONCILE_AFTER_S)
    ids = list(
        License.objects.filter(
            status=LicenseStatus.PENDING_SIGNATURE,
            updated_at__lt=stale_before,
            signing_attempts__lt=settings.SIGNING_MAX_ATTEMPTS,
        ).values_list("pk", flat=True)[:500]
    )
    for license_id in ids:
        sign_license_task.delay(license_id)
    cancelled_without_copy = License.objects.filter(
        status=LicenseStatus.CANCELLED, cancelled_file="", updated_at__lt=stale_before
    ).exclude(file="")
    for license_id in cancelled_without_copy.values_list("pk", flat=True)[:500]:
        render_cancelled_copy_task.delay(license_id)
    return len(ids)
