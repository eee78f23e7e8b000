"""A property-based run of the whole OpenAPI document (Schemathesis): requests generated from
the document, valid and not, never make a server error, and every answer has a status, a
content type and a body that the document describes."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Bounded so that the suite stays fast: a few dozen requests per operation and mode.
EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{number}"),
    ("POST", "/api/v1/cases/{number}/court-feedback"),
    ("GET", "/api/v1/stats/{month}"),
]


def test_the_run_covers_every_operation_of_the_document(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    listed = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method, path", OPERATIONS)
def test_the_api_conforms_to_its_openapi_document(
    app, make_api_client, make_case, monkeypatch, method, path, mode
):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 1_000_000)
    make_case("agreed")  # something for the look-ups and the statistics to find
    _id, headers = make_api_client()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
