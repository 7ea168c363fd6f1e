"""Types for what clients send, read as the OpenAPI document describes them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field


def _not_bool_or_text(value: object) -> object:
    if isinstance(value, (bool, str)):
        raise ValueError("a whole number is expected")
    return value


# A row's id, bounded like the database's INTEGER keys (api.deps.MAX_ID for path and query ids), as a
# JSON integer: 7 or 7.0 (the same number in JSON Schema), never true or "7", which pydantic alone would
# read as 1 and 7. The bounds come before the validator, or the schema would spell them ge/le.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_not_bool_or_text)]
