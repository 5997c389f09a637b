"""HTTP API of generations (mounted under /api/ by generations.urls): the catalog,
uploads of input images, start and quote, history, detail and cancel."""

from generations.api.generations import (
    GenerationCancelApi,
    GenerationDetailApi,
    GenerationQuoteApi,
    GenerationsApi,
    ModelListApi,
)
from generations.api.uploads import UploadApi, UploadFromGenerationApi

__all__ = [
    "GenerationCancelApi",
    "GenerationDetailApi",
    "GenerationQuoteApi",
    "GenerationsApi",
    "ModelListApi",
    "UploadApi",
    "UploadFromGenerationApi",
]
