"""The tills' API reference as a plain page, drawn on the server from the OpenAPI schema.

Swagger UI broke accessibility rules we cannot fix from outside (no `lang`, nested
controls, contrast, small targets) and needs inline script; this page is the same
schema, read, with nothing to run. The schema itself stays at /api/v1/schema/ for tools.
"""

from __future__ import annotations

from functools import lru_cache

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator

_METHODS = ("get", "post", "put", "patch", "delete")


@lru_cache(maxsize=1)
def _schema() -> dict:
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def _type(spec: dict) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if spec.get("type") == "array":
        return f"array of {_type(spec.get('items', {}))}"
    if "enum" in spec:
        return " | ".join(str(value) for value in spec["enum"])
    kind = spec.get("type", "")
    if spec.get("format"):
        kind = f"{kind} ({spec['format']})"
    if spec.get("nullable"):
        kind = f"{kind} or null"
    return kind


def _fields(schema: dict) -> list[dict]:
    required = set(schema.get("required", ()))
    return [{"name": name, "type": _type(spec), "required": name in required, "description": spec.get("description", "")}
            for name, spec in schema.get("properties", {}).items()]


def _body_type(content: dict | None) -> str:
    for media in (content or {}).values():
        return _type(media.get("schema", {}))
    return ""


def reference() -> dict:
    schema = _schema()
    operations = []
    for path, item in schema["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            op = item[method]
            operations.append({
                "id": op["operationId"], "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [{"name": p["name"], "in": p["in"], "type": _type(p.get("schema", {})),
                                "required": p.get("required", False), "description": p.get("description", "")}
                               for p in op.get("parameters", ())],
                "body": _body_type(op.get("requestBody", {}).get("content")),
                "responses": [{"status": status, "type": _body_type(answer.get("content")),
                               "description": answer.get("description", "")}
                              for status, answer in sorted(op.get("responses", {}).items())],
            })
    components = schema.get("components", {})
    models = [{"name": name, "fields": _fields(spec), "type": "" if "properties" in spec else _type(spec)}
              for name, spec in components.get("schemas", {}).items()]
    return {"info": schema["info"], "operations": operations, "models": models,
            "security": components.get("securitySchemes", {})}


def api_reference(request):
    return render(request, "api_reference.html", reference())
