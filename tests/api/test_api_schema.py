"""A schemathesis run against the API's OpenAPI schema: generated requests (valid and not)
to every operation never get a 5xx. Bounded example count so it stays quick; tracks are
capped at 10 s on this server so accepted jobs are short, and the runner is stopped after."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from conftest import make_app


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    from studio.api.app import stop_runner

    app = make_app(tmp_path_factory.mktemp("schemathesis"), max_duration_s=10.0, max_upload_bytes=200_000)
    yield app
    stop_runner(app)


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_asgi("/openapi.json", api_app)


def test_no_server_errors(api_schema):
    """Every operation, each with a bounded number of generated cases (schemathesis' own
    pytest plugin does not run on this pytest version, so hypothesis drives its strategies)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(checks=[not_a_server_error])

        check()
