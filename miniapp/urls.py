from django.urls import path

from miniapp.views import MiniAppView

urlpatterns = [
    path("", MiniAppView.as_view(), name="miniapp"),
]
