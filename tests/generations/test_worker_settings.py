"""The worker's settings are checked at start-up."""


from generations.checks import worker_settings_check


def ids(settings) -> list[str | None]:
    return [message.id for message in worker_settings_check()]


def test_the_defaults_pass(settings):
    assert ids(settings) == []


def test_nonsense_is_refused(settings):
    settings.GENERATION_PROVIDER_MAX_ATTEMPTS = 0
    settings.GENERATION_RETRY_BASE_SECONDS = -1
    settings.GENERATION_POLL_INTERVAL_SECONDS = 0
    assert ids(settings) == ["generations.E001", "generations.E002", "generations.E003"]


def test_timeouts_that_do_not_fit_in_a_task_are_reported(settings):
    settings.AIMLAPI_READ_TIMEOUT_SECONDS = settings.Q_CLUSTER["timeout"]
    settings.DEMO_PROVIDER_DELAY_SECONDS = settings.Q_CLUSTER["timeout"]
    assert ids(settings) == ["generations.W001", "generations.W002"]

