"""Celery tasks of the access app: making annotated copies (加注件)."""

import hashlib
import logging
import uuid

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def copy_identifier(license, copy) -> str:
    """A GB/T 36904 identifier of its own for the copy, derived from the licence's.

    Same type code and issuer; serial = the licence's serial + `J` (加注) + 12 hex digits of the
    copy's random id, version 001, with its own check character. The derived serial keeps the
    copy traceable to its licence at a glance, and its shape (longer, with a `J` after the
    issuer's serial) can never be a serial the issuer assigns, so no issued identifier is
    ever reused; a new *version* of the licence was not used because versions mean re-issues
    of the licence itself. The unique constraint on the column guards the rest.
    """
    from registry.validators import identifier_check_char

    type_code = license.license_type.code
    issuer = license.issuer.uscc
    serial = f"{license.serial or license.pk}J{uuid.UUID(str(copy.pk)).hex[:12].upper()}"
    version = "001"
    check = identifier_check_char(type_code, issuer, serial, version)
    return f"1.2.156.3005.2.{type_code}.{issuer}.{serial}.{version}.{check}"


@shared_task(bind=True, max_retries=3, default_retry_delay=10, acks_late=True)
def make_annotated_copy(self, copy_id: str) -> None:
    """Render, watermark and sign one copy. Idempotent: a READY or FAILED copy is left alone."""
    from access.models import AnnotatedCopy
    from access.rendering import annotated_document
    from audit.context import acting_as
    from licensing.rendering import render_license_pdf
    from licensing.signing import sign_pdf

    copy = AnnotatedCopy.objects.select_related(
        "license__license_type", "license__issuer", "organisation", "purpose", "requested_by"
    ).get(pk=copy_id)
    if copy.state != AnnotatedCopy.State.PENDING:
        return
    with acting_as(copy.requested_by, organisation=copy.organisation, api_key=copy.api_key):
        try:
            identifier = copy.identifier or copy_identifier(copy.license, copy)
            doc = annotated_document(copy, identifier=identifier)
            signed = sign_pdf(render_license_pdf(doc, watermark=copy.watermark))
        except Exception as exc:
            if self.request.retries < self.max_retries:
                raise self.retry(exc=exc) from exc
            logger.exception("annotated copy %s failed", copy_id)
            AnnotatedCopy.objects.filter(pk=copy.pk, state=AnnotatedCopy.State.PENDING).update(
                state=AnnotatedCopy.State.FAILED, error=str(exc)[:2000], completed_at=timezone.now()
            )
            return
        with transaction.atomic():
            locked = AnnotatedCopy.objects.select_for_update().get(pk=copy.pk)
            if locked.state != AnnotatedCopy.State.PENDING:
                return  # a redelivered message finished it meanwhile
            locked.identifier = identifier
            locked.file.save(f"{copy.pk}.pdf", ContentFile(signed.data), save=False)
            locked.file_sha256 = hashlib.sha256(signed.data).hexdigest()
            locked.state = AnnotatedCopy.State.READY
            locked.completed_at = timezone.now()
            locked.save()
