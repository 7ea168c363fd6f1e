"""Issue 17: one error shape for every 4xx/5xx, and the OpenAPI document says so."""

from __future__ import annotations

import json

from tests.api.support import staff


def test_every_error_has_one_shape_and_the_schema_says_so(client):
    """Issue 17: 422 answers were a list where every other error is a line, and the OpenAPI document
    said so for 422 only: a client had two shapes to read, and schemathesis found bodies that did not
    match the schema. Now every 4xx/5xx is {"detail": str, "errors"?: [...]}, declared on every route."""
    invalid = client.post("/api/v1/chat/sessions", json={"email": "not an address", "greet": "x"})
    assert invalid.status_code == 422
    body = invalid.json()
    assert isinstance(body["detail"], str) and "email" in body["detail"]
    assert {tuple(error["loc"]) for error in body["errors"]} >= {("body", "email"), ("body", "greet")}
    domain = client.post("/api/v1/tickets", json={"description": "x", "category": "weather"},
                         headers=staff(client, "meg"))
    assert domain.status_code == 422 and isinstance(domain.json()["detail"], str)
    schema = client.app.openapi()
    assert "HTTPValidationError" not in json.dumps(schema)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("401", "422", "429", "503"):
                assert operation["responses"][code]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
