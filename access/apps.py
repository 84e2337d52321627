from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "用证授权与接口"
    default_auto_field = "django.db.models.BigAutoField"
