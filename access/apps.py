from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "用证授权与接口"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks

        from access.throttling import check_rate_setting

        checks.register(check_rate_setting)
