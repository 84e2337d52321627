from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = "电子证照"

    def ready(self):
        # Infrastructure only: change records for every licensing model. The audit chain events
        # (who did which lifecycle action, and why) are written by the services themselves.
        from auditlog.registry import auditlog

        from audit.changelog import diff_against_remembered_state
        from licensing.models import ArchivePackage, CancellationRequest, License, LicenseHolder, StatusEvent

        auditlog.register(License, exclude_fields=["updated_at"])
        diff_against_remembered_state(License)  # services lock the row first (`services._locked`)
        auditlog.register(LicenseHolder)
        auditlog.register(StatusEvent)
        auditlog.register(CancellationRequest)
        auditlog.register(ArchivePackage)
