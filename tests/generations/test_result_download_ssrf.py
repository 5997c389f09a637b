"""Result URLs are the provider's choice: the worker downloads from public addresses
only, checks every redirect hop, and fails (and refunds) a generation whose result
leads anywhere else. The tests' fake AIML API lives on loopback, so exactly its
address and port are allowed (GENERATION_RESULT_ALLOWED_PRIVATE_ADDRESSES, set by the
`fake_aimlapi` fixture); a second loopback server stands for the internal service an
attacker would aim at."""

import ipaddress

import pytest

from accounts.models import CreditKind
from generations.failures import FailureCode
from generations.models import AIModel, Generation
from generations.providers import PermanentProviderError, ProviderResult
from generations.public_http import address_is_public, allowed_addresses_parse
from generations.services.results import result_store
from generations.tasks import generation_run
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import IMAGES, FakeAimlApi, Reply, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def internal_service():
    """Another server on loopback (a different port), which nothing allows."""
    server = FakeAimlApi().start()
    yield server
    server.stop()


@pytest.fixture
def image_generation(owner):
    return GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=4))


def redirect_to(url: str) -> Reply:
    return Reply(302, body=b"", headers={"Location": url})


def test_a_redirect_to_another_loopback_port_is_refused(image_generation, fake_aimlapi, internal_service):
    secret = internal_service.serve_file("admin.png", png_bytes(), "image/png")
    fake_aimlapi.script("GET", "/r/result.png", redirect_to(secret))

    with pytest.raises(PermanentProviderError) as refused:
        result_store(generation=image_generation, result=ProviderResult(url=f"{fake_aimlapi.base_url}/r/result.png"))

    assert refused.value.code == FailureCode.RESULT_URL_REFUSED
    assert not internal_service.requests, "the worker connected to the internal service"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "169.254.169.254", "10.1.2.3"])  # noqa: S104
def test_a_result_url_on_a_private_address_is_refused_before_connecting(image_generation, fake_aimlapi,
                                                                         internal_service, host):
    port = internal_service.base_url.rsplit(":", 1)[1]
    internal_service.serve_file("x.png", png_bytes(), "image/png")
    with pytest.raises(PermanentProviderError) as refused:
        result_store(generation=image_generation, result=ProviderResult(url=f"http://{host}:{port}/files/x.png"))
    assert refused.value.code == FailureCode.RESULT_URL_REFUSED
    assert not internal_service.requests


def test_redirects_within_allowed_addresses_are_followed(image_generation, fake_aimlapi):
    final = fake_aimlapi.serve_file("final.png", png_bytes(), "image/png")
    fake_aimlapi.script("GET", "/r/one.png", redirect_to("/r/two.png"))
    fake_aimlapi.script("GET", "/r/two.png", redirect_to(final))

    stored = result_store(generation=image_generation, result=ProviderResult(url=f"{fake_aimlapi.base_url}/r/one.png"))

    assert stored.content_type == "image/png"


def test_a_redirect_loop_is_a_permanent_error(image_generation, fake_aimlapi):
    fake_aimlapi.script("GET", "/r/loop.png", *[redirect_to("/r/loop.png")] * 10)
    with pytest.raises(PermanentProviderError) as refused:
        result_store(generation=image_generation, result=ProviderResult(url=f"{fake_aimlapi.base_url}/r/loop.png"))
    assert refused.value.code == FailureCode.RESULT_UNAVAILABLE
    assert len(fake_aimlapi.requests_to("GET", "/r/loop.png")) == 6  # the first try and 5 redirects


def test_the_generation_fails_with_a_clear_code_and_is_refunded(owner, image_generation, fake_aimlapi,
                                                                 internal_service, audit_passes):
    secret = internal_service.serve_file("metadata.png", png_bytes(), "image/png")
    fake_aimlapi.script("GET", "/r/evil.png", redirect_to(secret))
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": f"{fake_aimlapi.base_url}/r/evil.png"}]}))

    assert generation_run(image_generation.pk) == "failed"

    image_generation.refresh_from_db()
    assert (image_generation.status, image_generation.refunded) == (Generation.Status.FAILED, True)
    assert image_generation.error_code == FailureCode.RESULT_URL_REFUSED
    owner.refresh_from_db()
    assert owner.credits == 4
    assert owner.credit_ledger.filter(kind=CreditKind.GENERATION_REFUND).count() == 1
    assert not internal_service.requests


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2a00:1450:4001:82a::200e", True), ("127.0.0.1", False), ("10.0.0.1", False),
     ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
     ("0.0.0.0", False), ("224.0.0.1", False), ("240.0.0.1", False), ("255.255.255.255", False),  # noqa: S104
     ("::1", False),
     ("::", False), ("fe80::1", False), ("fc00::1", False), ("ff02::1", False), ("::ffff:127.0.0.1", False),
     ("::ffff:10.0.0.1", False)],
)
def test_which_addresses_are_public(address, public):
    assert address_is_public(ipaddress.ip_address(address)) is public


def test_allowed_addresses_are_parsed_strictly():
    entries = allowed_addresses_parse(["127.0.0.1:8080", "10.0.0.0/8", "[::1]:9000", "fd00::5"])
    assert [(str(e.network), e.port) for e in entries] == [
        ("127.0.0.1/32", 8080), ("10.0.0.0/8", None), ("::1/128", 9000), ("fd00::5/128", None)]
    for bad in ["localhost", "127.0.0.1:99999", "1.2.3.4:x", "[::1]x"]:
        with pytest.raises(ValueError, match="bad"):
            allowed_addresses_parse([bad])


def test_https_result_urls_are_checked_the_same_way(image_generation):
    with pytest.raises(PermanentProviderError) as refused:
        result_store(generation=image_generation, result=ProviderResult(url="https://10.1.2.3/files/x.png"))
    assert refused.value.code == FailureCode.RESULT_URL_REFUSED
