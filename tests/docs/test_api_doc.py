"""docs/api.md stays true: it documents exactly the operations of /api/schema, with
their parameters, request fields and status codes, every field and value of every
object, every error code the code can raise and every generation failure code."""

import ast
import functools
import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from rest_framework import exceptions as drf

from core.api.exceptions import _DRF_CODES, _drf_status_and_code
from core.errors import DomainError
from generations.failures import FailureCode
from tests.docs.helpers import ROOT, backticked, headings, section

pytestmark = pytest.mark.django_db

API_DOC = (ROOT / "docs" / "api.md").read_text()
OPERATION = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/api/\S*)$")
# The schema does not describe the endpoint that serves it.
NOT_IN_SCHEMA = {("GET", "/api/schema")}
# Codes every authenticated operation may answer, described once under Conventions.
COMMON_CODES = set(re.findall(r"`([A-Z][A-Z_]+)`", section(API_DOC, "Conventions")))
# Source outside the apps' packages that raises no API error.
NOT_APP_SOURCE = {"tests", "bench", "scripts", "docs", "locale", "templates", ".venv"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def schema_operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def documented_operations() -> set[tuple[str, str]]:
    found = set()
    for level, title in headings(API_DOC):
        match = OPERATION.match(title)
        if match:
            assert level == 3, f"{title}: operations are ### headings"
            found.add((match.group(1), match.group(2)))
    return found


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node or "allOf" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node["allOf"][0]
    return node


def test_every_operation_of_the_schema_is_documented_and_nothing_else(schema):
    in_schema = {(method, path) for method, path, _ in schema_operations(schema)}
    documented = documented_operations()
    assert in_schema - documented == set(), "operations missing from docs/api.md"
    assert documented - in_schema - NOT_IN_SCHEMA == set(), "docs/api.md documents operations the API does not have"
    table = section(API_DOC, "Endpoints").split("\n###", 1)[0]
    rows = set(re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `(/api/[^`]*)` \|", table, re.M))
    assert rows == documented, "the endpoint table and the endpoint sections disagree"


def test_each_operation_documents_its_parameters_request_fields_and_status_codes(schema):
    for method, path, operation in schema_operations(schema):
        text = section(API_DOC, f"{method} {path}")
        words = backticked(text)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "path":
                assert parameter["name"] in words, f"{method} {path}: parameter {parameter['name']} not documented"
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            for field in resolve(schema, body["schema"]).get("properties", {}):
                assert field in words, f"{method} {path}: request field {field} not documented"
        for status, response in operation["responses"].items():
            assert re.search(rf"\b{status}\b", text), f"{method} {path}: status {status} not documented"
            for code in re.findall(r"\b[A-Z][A-Z_]{3,}\b", response.get("description", "")):
                if code in raisable_error_codes() and code not in COMMON_CODES:
                    assert code in words, f"{method} {path}: {status} {code} not documented"


def test_every_object_field_and_enum_value_of_the_schema_is_documented(schema):
    words = backticked(API_DOC)
    for name, component in schema["components"]["schemas"].items():
        if "enum" in component:
            missing = [value for value in component["enum"] if value and value not in words]
            assert not missing, f"{name}: values {missing} not documented"
            continue
        assert name in words, f"schema object {name} is not named in docs/api.md"
        missing = [field for field in component.get("properties", {}) if field not in words]
        assert not missing, f"{name}: fields {missing} not documented"


@functools.cache
def raisable_error_codes() -> frozenset[str]:
    """Every `code` an error body can carry: the domain errors of every app, the exception
    handler's codes for the framework's errors, and the codes written out where the
    error body is made by hand (middleware, 404/500 handlers, authentication)."""
    for app in apps.get_app_configs():
        try:
            importlib.import_module(f"{app.name}.errors")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app.name}.errors":
                raise
    codes = {cls.code for cls in _subclasses(DomainError)}
    codes |= {code for _, _, code in _DRF_CODES}
    codes.add(_drf_status_and_code(drf.APIException())[1])
    makers = {"error_body", "error_response", "InitDataAuthenticationFailed"}
    for path in ROOT.glob("*/**/*.py"):
        if path.relative_to(ROOT).parts[0] in NOT_APP_SOURCE or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in makers:
                codes |= {arg.value for arg in node.args[:2] if isinstance(arg, ast.Constant)
                          and isinstance(arg.value, str) and re.fullmatch(r"[A-Z][A-Z_]+", arg.value)}
    return frozenset(codes)


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def documented_error_codes(title: str) -> set[str]:
    """The codes in a section's backticks, less the names of settings it mentions."""
    return {name for name in re.findall(r"`([A-Z][A-Z_]+)`", section(API_DOC, title)) if not hasattr(settings, name)}


def test_every_error_code_is_documented_and_none_that_does_not_exist():
    codes = raisable_error_codes()
    assert {"AUTH_EXPIRED", "PAYLOAD_TOO_LARGE", "INTERNAL_ERROR", "USER_BANNED", "PACK_UNAVAILABLE"} <= codes
    documented = documented_error_codes("Error codes")
    assert codes - documented == set(), "error codes missing from docs/api.md"
    assert documented - codes == set(), "docs/api.md lists error codes nothing raises"


def test_every_generation_failure_code_is_documented():
    assert documented_error_codes("Generation failure codes") == set(FailureCode.values)
