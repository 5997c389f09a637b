"""Generation providers behind one interface (`base.Provider`), chosen per catalog model."""

from django.conf import settings

from generations.models import AIModel
from generations.providers.aimlapi import AimlApiProvider
from generations.providers.base import (
    GenerationRequest,
    InputImage,
    JobLookup,
    JobState,
    LookupOutcome,
    PermanentProviderError,
    Provider,
    ProviderAccountError,
    ProviderError,
    ProviderResult,
    TransientProviderError,
)
from generations.providers.demo import DemoProvider

__all__ = [
    "AimlApiProvider",
    "DemoProvider",
    "GenerationRequest",
    "InputImage",
    "JobLookup",
    "JobState",
    "LookupOutcome",
    "PermanentProviderError",
    "Provider",
    "ProviderAccountError",
    "ProviderError",
    "ProviderResult",
    "TransientProviderError",
    "provider_for",
]


def provider_for(model: AIModel) -> Provider:
    """The provider that runs `model`: the offline demo for demo models and whenever
    no AIMLAPI_KEY is configured (a local run needs no network), else the AIML API."""
    if model.provider == AIModel.Provider.DEMO or not settings.AIMLAPI_KEY:
        return DemoProvider.from_settings()
    return AimlApiProvider.from_settings()
