"""Schemathesis against the OpenAPI schema, in-process: no server error, no schema violation.

Requests carry an administrator's token so that every operation is exercised past the login
check; a bounded number of examples per operation keeps the run short.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from govwatch.alerts.seed import put_alert
from govwatch.alerts.sync import sync_workflow
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.api.conftest import T0, seed


def _app() -> tuple[Any, dict[str, str]]:
    """The app on a fresh DuckDB file, seeded (built at import: schemathesis needs the schema)."""
    where = Path(tempfile.mkdtemp(prefix="govwatch-schema-"))
    app = create_app(f"duckdb:///{where}/schema.duckdb")
    app.dependency_overrides[clock] = lambda: T0
    pool = app.state.pool
    db = pool.get()
    tokens = seed(db, where)
    put_alert(db, "C-1", "case_overdue", T0, department_code="D1", region_code="330102")
    sync_workflow(db, T0)
    pool.put(db)
    return app, tokens


APP, TOKENS = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_answers_within_its_schema(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        checks=[
            checks.not_a_server_error,
            checks.response_schema_conformance,
            checks.status_code_conformance,
            checks.content_type_conformance,
        ],
    )
