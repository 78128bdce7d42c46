from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("plots/<int:pk>/", views.plot_detail, name="plot"),
    path("households/", views.household_list, name="households"),
    path("households/new/", views.household_create, name="household_new"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/move/", views.household_move, name="household_move"),
    path("households/<int:pk>/deregister/", views.household_deregister, name="household_deregister"),
    path("households/<int:pk>/residents/new/", views.resident_create, name="resident_new"),
    path("residents/", views.resident_list, name="residents"),
    path("residents/pick/", views.resident_pick, name="resident_pick"),
    path("residents/<int:pk>/", views.resident_detail, name="resident"),
    path("residents/<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/move/", views.resident_move, name="resident_move"),
    path("residents/<int:pk>/deregister/", views.resident_deregister, name="resident_deregister"),
    path("buildings/", views.building_list, name="buildings"),
    path("buildings/new/", views.building_create, name="building_new"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
    path("establishments/", views.establishment_list, name="establishments"),
    path("establishments/new/", views.establishment_create, name="establishment_new"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/refused.xlsx", views.import_refused, name="import_refused"),
    path("imports/template/<str:kind>.xlsx", views.import_template, name="import_template"),
    path("access-log/", views.access_log, name="access_log"),
]
