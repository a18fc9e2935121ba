"""Checks the API tests share: answers against the OpenAPI document, 422 error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def spec_checker(api: Callable[..., Any]) -> Callable[..., dict]:
    """`check(resp, status, path, method)`: the answer validates against the documented schema."""
    from openapi_schema_validator import OAS31Validator

    doc = api(None, "GET", "/api/v1/openapi.json").get_json()

    def check(resp: Any, status: int, path: str, method: str = "get") -> dict:
        assert resp.status_code == status, resp.get_json()
        response = doc["paths"][path][method]["responses"][str(status)]
        if "$ref" in response:
            response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema = response["content"]["application/json"]["schema"]
        OAS31Validator({**schema, "components": doc["components"]}).validate(resp.get_json())
        return resp.get_json()

    return check


def assert_invalid(resp: Any, errors: dict[str, str | None]) -> None:
    """A 422 naming exactly these fields, with these messages (None: any message)."""
    assert resp.status_code == 422
    got = resp.get_json()["errors"]
    assert set(got) == set(errors)
    for field, message in errors.items():
        if message is not None:
            assert got[field] == [message]
