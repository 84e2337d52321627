from django.contrib import admin
from django.urls import include, path

from config.health import healthz
from licensing.public import public_check

admin.site.site_header = "北京市不动产登记电子证照系统"
admin.site.site_title = "不动产登记电子证照"
admin.site.index_title = "管理"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("v/<str:check_code>", public_check, name="public-check"),
    path("audit/", include("audit.urls")),
    path("api/", include("access.api.urls")),
]
