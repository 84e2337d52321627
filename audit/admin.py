"""Read-only admin for audit records: nobody, superusers included, may add, change or delete them.

Viewing is decided by `audit.permissions.can_view_audit` (audit administrators only), not by
model permissions, which superusers would hold implicitly.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from audit.models import AuditCheckpoint, AuditEvent, AuditVerification
from audit.permissions import can_view_audit


class EstimatedCountPaginator(Paginator):
    """Counting millions of events on every admin page is slow: use PostgreSQL's estimate for
    the unfiltered list (filtered lists are narrow and counted exactly)."""

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return row[0]
        return super().count


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    show_full_result_count = False  # no second COUNT(*) of the whole table on every page
    paginator = EstimatedCountPaginator

    def has_module_permission(self, request):
        return can_view_audit(request.user)

    def has_view_permission(self, request, obj=None):
        return can_view_audit(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAuditAdmin):
    list_display = ["seq", "occurred_at", "actor_repr", "organisation", "action", "target_repr", "result"]
    list_select_related = ["organisation"]
    search_fields = ["=license_identifier", "=certificate_number", "=correlation_id"]
    list_per_page = 50
    ordering = ["-seq"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAuditAdmin):
    list_display = ["seq", "hash", "created_at", "certificate_fingerprint"]
    ordering = ["-seq"]


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAuditAdmin):
    list_display = ["ran_at", "ok", "events_checked", "first_bad_seq", "source"]
    ordering = ["-ran_at"]
