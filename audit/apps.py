from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计"

    def ready(self):
        from audit import signals  # noqa: F401  (connects the Celery and sign-in handlers)
