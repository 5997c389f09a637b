from django.urls import URLPattern, path

from generations.api import (
    GenerationCancelApi,
    GenerationDetailApi,
    GenerationQuoteApi,
    GenerationsApi,
    ModelListApi,
    UploadApi,
    UploadFromGenerationApi,
)

# Mounted under /api/ by nanogen.urls.
api_urlpatterns: list[URLPattern] = [
    path("models", ModelListApi.as_view(), name="model-list"),
    path("uploads", UploadApi.as_view(), name="upload-list"),
    path("uploads/from-generation", UploadFromGenerationApi.as_view(), name="upload-from-generation"),
    path("generations", GenerationsApi.as_view(), name="generation-list"),
    path("generations/quote", GenerationQuoteApi.as_view(), name="generation-quote"),
    path("generations/<int:generation_id>", GenerationDetailApi.as_view(), name="generation-detail"),
    path("generations/<int:generation_id>/cancel", GenerationCancelApi.as_view(), name="generation-cancel"),
]
