"""Schemas as the OpenAPI document states them, so generated clients read what is sent.

- Response schemas (`ResponseSchema`) mark every field required: it is in every response,
  null where nullable. A field that is there only sometimes says when, in its
  `sometimes` metadata.
- A resource schema with read-only and write-only fields serves as two: `Tag` for what
  is read, `TagWrite` (and `TagWritePatch`) for what may be sent.
- Enumerations are named components with a type, reused by reference.
- Strings that may be sent refuse NUL in their `pattern`, as the server does.
- A schema with `EXTENDS_BASE` is its first base plus its own fields (`allOf`): a full
  relation extends its compact reference, and a generated type says which one it has.
"""

import json
import re
from typing import Any, ClassVar

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import get_fields, resolve_schema_instance
from apispec.ext.marshmallow.openapi import OpenAPIConverter

from cms.extensions import DB_INT_MAX

# No string field takes NUL (cms.api.screening refuses it anywhere).
NO_NUL = "^[^\\x00]*$"
# Datetimes sent are years 0002 to 9998 as written: in any zone they stay inside what
# every backend stores once in UTC (cms.api.common.AwareUTCDateTime checks the same).
DATETIME = "^(?!0001-|9999-)[^\\x00]*$"
# http(s) URLs, written once in the regex syntax Python and ECMA-262 (JSON Schema's
# `pattern`) read alike, no \\s, \\d or flags: the server validates with it and the spec
# states it, so a client checking the pattern sends nothing the server then refuses.
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


def _host(letters: str) -> str:
    """A name with a TLD, or an IPv4 address. IPv6 literals are not taken: few sources
    use them, and a lax bracket pattern let through hosts no URL parser reads."""
    label = f"[{letters}0-9](?:[{letters}0-9-]{{0,61}}[{letters}0-9])?"
    name = f"(?:{label}\\.)+(?:[{letters}]{{2,63}}|xn--[{letters}0-9-]{{1,59}})"
    return f"(?:{name}|{_OCTET}(?:\\.{_OCTET}){{3}})"


_HOST = _host("A-Za-z")
# A publication's domain: a URL's host as cms.services.identifiers.domain_of gives it.
DOMAIN = f"^{_host('a-z')}$"
_PORT = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5]?[0-9]{1,4}))?"
# After the host: anything but controls, spaces and what either syntax calls white space.
_SPACES = "\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_REST = f"(?:[/?#][^{_SPACES}]*)?"
HTTP_URL = f"^(?:[Hh][Tt][Tt][Pp][Ss]?://{_HOST}{_PORT}{_REST})$"
_HTTP_URL_BODY = re.compile(HTTP_URL[1:-1])


class HttpUrl(ma.fields.String):
    """An http(s) URL as HTTP_URL states it, of at most 2048 characters."""

    default_error_messages = {"invalid_url": "Not a valid http(s) URL."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=ma.validate.Length(max=2048), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _HTTP_URL_BODY.fullmatch(text) is None:
            raise self.make_error("invalid_url")
        return text


class ResponseSchema(ma.Schema):
    """Describes output only: in the spec, every field is required unless its metadata
    has `sometimes` (when it is there), and other fields may be added later."""

    RESPONSE_ONLY: ClassVar[bool] = True
    EXTENDS_BASE: ClassVar[bool] = False
    # Set: only these fields are always there (a sparse representation).
    ALWAYS_PRESENT: ClassVar[tuple[str, ...] | None] = None


class AnyOf(ma.fields.Field):  # type: ignore[type-arg]
    """A value of one of several response schemas, the fullest first (`anyOf`): a
    relation is its compact reference or, when included, its full form. Only the fast
    read path sends these, already serialized: dumping passes the value through."""

    def __init__(self, *schemas: type[ma.Schema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schemas = schemas

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


def schema_name(schema: Any) -> str:
    """Component names: "Tag" for TagSchema, "TagWritePatch" for a partial TagWrite."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    return f"{name}Patch" if getattr(schema, "partial", False) else name


_variants: dict[tuple[type[ma.Schema], str], type[ma.Schema]] = {}


def _variant(cls: type[ma.Schema], kind: str) -> type[ma.Schema]:
    """The read or write side of a schema that has both (cached: one class each)."""
    key = (cls, kind)
    if key not in _variants:
        fields = cls._declared_fields
        if kind == "read":
            excluded = [name for name, field in fields.items() if field.load_only]
            bases: tuple[type, ...] = (cls, ResponseSchema)
            name = cls.__name__
        else:
            excluded = [name for name, field in fields.items() if field.dump_only]
            bases = (cls,)
            name = cls.__name__.removesuffix("Schema") + "WriteSchema"
        meta = type("Meta", (getattr(cls, "Meta", object),), {"exclude": tuple(excluded)})
        _variants[key] = type(name, bases, {"Meta": meta, "__doc__": cls.__doc__})
    return _variants[key]


def _schema_class(schema: Any) -> type[ma.Schema]:
    return schema if isinstance(schema, type) else type(schema)


def read_schema(schema: Any) -> Any:
    """The schema a response is documented (and dumped) with."""
    cls = _schema_class(schema)
    if not issubclass(cls, ma.Schema) or issubclass(cls, ResponseSchema):
        return schema  # a plain JSON schema (a dict), or one made for responses
    return _variant(cls, "read")


def write_schema(schema: Any) -> Any:
    """The schema a request body is documented (and loaded) with: without read-only
    fields, which the server refuses as unknown (the mass-assignment guard)."""
    cls = _schema_class(schema)
    if not issubclass(cls, ma.Schema):
        return schema
    if not any(field.dump_only for field in cls._declared_fields.values()):
        return schema
    variant = _variant(cls, "write")
    return variant(partial=schema.partial) if isinstance(schema, ma.Schema) else variant


class ContractConverter(OpenAPIConverter):
    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        instance = resolve_schema_instance(schema)
        if not isinstance(instance, ResponseSchema):
            return _body_defaults_described(jsonschema, partial=bool(instance.partial))
        jsonschema.pop("additionalProperties", None)  # new fields must not break clients
        fields = get_fields(schema)
        always = type(instance).ALWAYS_PRESENT
        jsonschema["required"] = sorted(
            field.data_key or name
            for name, field in fields.items()
            if "sometimes" not in field.metadata and (always is None or name in always)
        )
        if type(instance).EXTENDS_BASE:
            return self._extending(type(instance), jsonschema)
        return jsonschema

    def _extending(self, cls: type[ma.Schema], jsonschema: dict[str, Any]) -> dict[str, Any]:
        base: type[ma.Schema] = cls.__mro__[1]
        own = {name for name in cls._declared_fields if name not in base._declared_fields}
        properties = {k: v for k, v in jsonschema["properties"].items() if k in own}
        return {
            "allOf": [
                self.resolve_nested_schema(base),  # type: ignore[no-untyped-call]
                {
                    "type": "object",
                    "properties": properties,
                    "required": [name for name in jsonschema["required"] if name in own],
                },
            ],
            **({"description": cls.__doc__.strip()} if cls.__doc__ else {}),
        }

    def field2property(self, field: ma.fields.Field[Any]) -> dict[str, Any]:
        if isinstance(field, AnyOf):
            choices = [self.resolve_nested_schema(s) for s in field.schemas]  # type: ignore[no-untyped-call]
            if field.allow_none:
                choices.append({"type": "null"})
            return {"anyOf": choices, **_description(field)}
        prop: dict[str, Any] = super().field2property(field)
        if isinstance(field, HttpUrl) and _may_be_sent(field):
            prop["pattern"] = HTTP_URL
        elif _types(prop) & {"integer"}:
            # The database's range (cms.api.screening refuses the rest, anywhere).
            prop.setdefault("minimum", -DB_INT_MAX)
            prop.setdefault("maximum", DB_INT_MAX)
        if "enum" in prop:
            prop = self._enum_component(field, prop)
        elif _types(prop) & {"string"} and "pattern" not in prop and _may_be_sent(field):
            prop["pattern"] = DATETIME if prop.get("format") == "date-time" else NO_NUL
        if "sometimes" in field.metadata:
            prop["description"] = " ".join(
                filter(None, [prop.get("description"), f"Only {field.metadata['sometimes']}."])
            )
        return prop

    def _enum_component(self, field: ma.fields.Field[Any], prop: dict[str, Any]) -> dict[str, Any]:
        """Replace an inline enum with a reference to its named component."""
        if isinstance(field, ma.fields.Enum):
            name = field.enum.__name__
        elif "enum_name" in field.metadata:
            name = field.metadata["enum_name"]
        else:
            raise ValueError(f"{field!r}: give its choices an enum_name (a component name)")
        given = prop.pop("enum")
        values = [value for value in given if value is not None]
        types = _types(prop) - {"null"}
        nullable = None in given or "null" in _types(prop)
        prop.pop("type", None)
        component = {"type": types.pop() if types else "string", "enum": values}
        known = self.spec.components.schemas.get(name)
        if known is None:
            self.spec.components.schema(name, component)
        elif known != component:
            raise ValueError(f"two enums are named {name}: {known} and {component}")
        reference = {"$ref": f"#/components/schemas/{name}"}
        if nullable:
            return {"anyOf": [reference, {"type": "null"}], **prop}
        return {**reference, **prop}


def _body_defaults_described(jsonschema: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """A request body's defaults, said in words: generators (openapi-typescript) make a
    property with a `default` required, and a partial update applies none at all."""
    for prop in jsonschema.get("properties", {}).values():
        if "default" not in prop:
            continue
        default = prop.pop("default")
        if not partial:
            said = f"Default: {json.dumps(default)}."
            prop["description"] = f"{prop['description']} {said}" if "description" in prop else said
    return jsonschema


def _description(field: ma.fields.Field[Any]) -> dict[str, Any]:
    description = field.metadata.get("description")
    return {"description": description} if description else {}


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def _may_be_sent(field: ma.fields.Field[Any]) -> bool:
    """False for what only responses carry (problems included: they quote the request)."""
    root = field.root
    return not (field.dump_only or getattr(root, "RESPONSE_ONLY", False))


class ContractPlugin(MarshmallowPlugin):
    Converter = ContractConverter

    def __init__(self) -> None:
        super().__init__(schema_name_resolver=schema_name)
