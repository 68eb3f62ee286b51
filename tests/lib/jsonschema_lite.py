#!/usr/bin/env python3
"""A small JSON Schema (2020-12) validator for the keywords vigil's schemas
use: type, enum, const, properties, required, additionalProperties,
propertyNames, items, minItems, minLength, maxLength, pattern, minimum,
maximum, $ref (local), allOf, anyOf, oneOf, not, if/then/else. The tests use the
jsonschema package when python has it and this otherwise; an unknown keyword
is an error here, so a schema can never quietly outgrow it."""
import re

KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "enum", "const",
         "properties", "required", "additionalProperties", "propertyNames", "items",
         "minItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "$ref",
         "allOf", "anyOf", "oneOf", "not", "if", "then", "else"}

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _ref(root, ref):
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref: {ref}")
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(schema, value, root=None, where="$"):
    """All violations as 'path: message' strings."""
    root = root if root is not None else schema
    if schema is True:
        return []
    if schema is False:
        return [f"{where}: not allowed"]
    out = []
    for k in schema:
        if k not in KNOWN:
            raise ValueError(f"jsonschema_lite: keyword {k} not supported")
    if "$ref" in schema:
        out += errors(_ref(root, schema["$ref"]), value, root, where)
    if "not" in schema and not errors(schema["not"], value, root, where):
        out.append(f"{where}: matches what it must not")
    t = schema.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(TYPES[x](value) for x in ts):
            return out + [f"{where}: {type(value).__name__} is not {t}"]
    if "const" in schema and (value != schema["const"] or type(value) is not type(schema["const"])):
        out.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{where}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for r in schema.get("required", []):
            if r not in value:
                out.append(f"{where}: '{r}' is required")
        for k, v in value.items():
            if "propertyNames" in schema:
                out += errors(schema["propertyNames"], k, root, f"{where}.{k}(name)")
            if k in props:
                out += errors(props[k], v, root, f"{where}.{k}")
            elif "additionalProperties" in schema:
                ap = schema["additionalProperties"]
                if ap is False:
                    out.append(f"{where}: '{k}' is not an allowed property")
                else:
                    out += errors(ap, v, root, f"{where}.{k}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{where}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, v in enumerate(value):
                out += errors(schema["items"], v, root, f"{where}[{i}]")
    for s in schema.get("allOf", []):
        out += errors(s, value, root, where)
    if "anyOf" in schema and all(errors(s, value, root, where) for s in schema["anyOf"]):
        out.append(f"{where}: matches none of anyOf")
    if "oneOf" in schema and sum(not errors(s, value, root, where) for s in schema["oneOf"]) != 1:
        out.append(f"{where}: does not match exactly one of oneOf")
    if "if" in schema:
        if not errors(schema["if"], value, root, where):
            out += errors(schema.get("then", True), value, root, where)
        else:
            out += errors(schema.get("else", True), value, root, where)
    return out
