from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="events"),
    path("events/<int:seq>/", views.event_detail, name="event_detail"),
    path("licences/<str:identifier>/", views.license_timeline, name="timeline"),
    path("organisations/<int:pk>/", views.organisation_activity, name="organisation"),
    path("export.csv", views.export_csv, name="export"),
    path("chain/", views.chain_state, name="chain"),
]
