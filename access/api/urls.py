from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from access.api import views

LICENSE = "v1/licenses/<str:identifier>"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/ping", views.PingView.as_view(), name="api-ping"),
    path("v1/usage/", views.UsageView.as_view(), name="api-usage"),
    path("v1/licenses/", views.LicenseListView.as_view(), name="api-license-list"),
    path(f"{LICENSE}/", views.LicenseDetailView.as_view(), name="api-license-detail"),
    path(f"{LICENSE}/status", views.LicenseStatusView.as_view(), name="api-license-status"),
    path(f"{LICENSE}/file", views.LicenseFileView.as_view(), name="api-license-file"),
    path(f"{LICENSE}/annotated-copies", views.AnnotatedCopyCreateView.as_view(), name="api-annotated-copy-create"),
    path(f"{LICENSE}/annotated-copies/<uuid:copy_id>", views.AnnotatedCopyView.as_view(), name="api-annotated-copy"),
    path(
        f"{LICENSE}/annotated-copies/<uuid:copy_id>/file",
        views.AnnotatedCopyFileView.as_view(),
        name="api-annotated-copy-file",
    ),
]
