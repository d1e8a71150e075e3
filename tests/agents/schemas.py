"""Union types in a JSON schema: what some MCP clients reject in tool schemas."""

from __future__ import annotations

from typing import Any

UNION_KEYWORDS = ("anyOf", "oneOf", "allOf", "not")


def union_types(schema: Any, where: str = "$") -> list[str]:
    """Every place in `schema` with a union: a combinator, a list of types, or null."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in UNION_KEYWORDS:
                found.append(f"{where}.{key}")
            if key == "type" and (isinstance(value, list) or value == "null"):
                found.append(f"{where}.type={value}")
            found.extend(union_types(value, f"{where}.{key}"))
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            found.extend(union_types(item, f"{where}[{i}]"))
    return found
