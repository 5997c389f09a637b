"""A task for the scheduler tests, run by a real qcluster: says which schedule it ran for."""


def probe(mark: str) -> str:
    return mark
