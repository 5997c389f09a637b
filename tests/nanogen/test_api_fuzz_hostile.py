"""Hostile-input fuzzing of every API endpoint (Hypothesis): whatever arrives in the
path, the query, the headers or the body, the answer is never a 5xx, and every error
is the contract's body. Complements test_api_fuzz.py (Schemathesis, schema-shaped
input) with what a schema never generates: cursors with forged positions, lone
surrogates, NaN and numbers past 64 bits, nesting thousands deep, broken UTF-8.

The endpoints come from the URL configuration, so a new endpoint is fuzzed without
a change here. Derandomized and bounded: a few seconds, the same cases every run."""

import base64
import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generations.models import AIModel
from nanogen.urls import api_patterns
from tests.factories import AIModelFactory, CreditPackFactory, UserFactory
from tests.helpers import api_client_for, credits_give

pytestmark = pytest.mark.django_db

FUZZER_ID = 4343
INPUT_FREE = {"schema"}  # takes no input at all, and is slow to build


def _endpoints() -> list[tuple[str, str]]:
    endpoints = []
    for pattern in api_patterns:
        if pattern.name in INPUT_FREE:
            continue
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                endpoints.append((method, str(pattern.pattern)))
    return endpoints


ENDPOINTS = _endpoints()

SPECIAL_TEXT = ["\ud800", "a\udfffb", "\x00", "abc", "1e5", "-1", "9" * 25, "%00", "NaN", "", " ", "ü", "😀",
                "nano-banana", "test-pack", "ton", "pending", "image", "' OR 1=1 --"]
text = st.one_of(st.text(max_size=12), st.sampled_from(SPECIAL_TEXT))
number = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([2**63, -(2**63) - 1, 10**30]),
                   st.floats(allow_nan=False, allow_infinity=False))
leaf = st.one_of(text, number, st.booleans(), st.none())
json_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                          max_leaves=8)
FIELDS = ["model", "prompt", "params", "idempotency_key", "pack", "amount", "method", "destination"]
body_object = st.dictionaries(st.one_of(st.sampled_from(FIELDS), text), json_value, max_size=6)


def _nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_params(depth: int) -> str:
    return '{"model": "fuzz-image", "prompt": "x", "params": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)


raw_body = st.one_of(
    body_object.map(json.dumps),  # lone surrogates become \\udXXX escapes, as JavaScript would send them
    body_object.map(lambda body: json.dumps(body, ensure_ascii=False)),  # ... or raw, as broken UTF-8
    st.integers(min_value=1, max_value=6000).map(_nested_list),
    st.integers(min_value=1, max_value=6000).map(_nested_params),
    st.sampled_from(['{"amount": NaN}', '{"amount": Infinity}', '{"amount": -Infinity}', '{"amount": 1e999}',
                     '{"pack": "test-pack"', "\xff\xfe", "", "null", "[]", '"text"', "1" * 5000]),
)


def _cursor(tokens: dict[str, str]) -> str:
    """A cursor as DRF makes one (base64 of a query string), with any token values."""
    return base64.b64encode("&".join(f"{name}={_wire(value)}" for name, value in tokens.items()).encode()).decode()


cursor = st.one_of(
    st.fixed_dictionaries({}, optional={"o": text, "r": st.sampled_from(["1", "0", "x"]), "p": text}).map(_cursor),
    text,
)
query = st.fixed_dictionaries({}, optional={"cursor": cursor, "page_size": st.one_of(text, number.map(str)),
                                            "status": text, "kind": text})
path_id = st.one_of(st.integers(min_value=0, max_value=10**30), st.sampled_from([0, 2**63 - 1, 2**63, 2**64]))


def _wire(value: str) -> str:
    """A text as the bytes a client could put on the wire, percent-encoded."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture
def fuzz_world(db, fake_telegram):
    user = UserFactory.create(telegram_id=FUZZER_ID, first_name="Fuzz", language_code="en")
    credits_give(user, 1000)
    AIModelFactory.create(slug="fuzz-image", name="Fuzz image", kind=AIModel.Kind.IMAGE, provider_model_id="fuzz/i",
                           price=5, params_schema={"seed": {"type": "integer", "min": 1, "max": 1000},
                                                   "aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"]}})
    CreditPackFactory.create(slug="test-pack", title="Test", stars=10, credits=10)
    return api_client_for(FUZZER_ID, first_name="Fuzz")


@pytest.mark.parametrize(("method", "route"), ENDPOINTS, ids=[f"{m} {r}" for m, r in ENDPOINTS])
@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=query, body=raw_body, path_id=path_id, key=text)
def test_hostile_input_never_gets_a_server_error(fuzz_world, audit_passes, method, route, query, body, path_id, key):
    path = "/api/" + re.sub(r"<int:\w+>", str(path_id), route)
    if query:
        path += "?" + "&".join(f"{name}={_wire(value)}" for name, value in query.items())
    headers = {"HTTP_IDEMPOTENCY_KEY": key.encode("utf-8", "surrogatepass").decode("latin-1")}
    call = getattr(fuzz_world, method)
    if method == "get":
        response = call(path, **headers)
    else:
        response = call(path, body.encode("utf-8", "surrogatepass"), content_type="application/json", **headers)

    assert response.status_code < 500, (path, body[:200], response.content[:300])
    if response.status_code >= 400:
        error = response.json()
        assert isinstance(error["code"], str) and isinstance(error["message"], str), error
