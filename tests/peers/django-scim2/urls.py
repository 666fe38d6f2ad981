"""The URL configuration from django-scim2's README: its URLs under /scim/v2/, namespace `scim`."""
from django.urls import include, path

urlpatterns = [path("scim/v2/", include("django_scim.urls", namespace="scim"))]
