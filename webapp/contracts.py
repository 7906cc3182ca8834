"""One declaration per resource: what it accepts (``Contract``) and what it answers (``Reply``).

A domain declares them in its ``schemas.py``; the rest follows from there:

- services clean input with ``Contract.clean`` (the pages and the API alike), which returns
  the values to store or raises one ``ValidationFailed`` naming every field's problem in the
  member's words;
- ``webapp.api.openapi`` documents bodies, query strings and answers from the same classes;
- ``Reply.of`` shapes an answer and refuses one that drifted from its declaration.

Field types come from ``webapp.rules`` (or a domain's own, built with ``rules.rule``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from webapp.errors import ValidationFailed
from webapp.rules import REQUIRED, RowErrors

ATTENTION = "Some fields need your attention."
REF_TEMPLATE = "#/components/schemas/{model}"
# Answers carry times as ISO 8601 text, as the serializers write them.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
OptionalTimestamp = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]


class Contract(BaseModel):
    """What one operation accepts. Unknown fields are refused, fields left out stay unset (a
    PATCH changes only what it names), and ``problems`` adds rules across fields.

    Every field is checked on its own, so one answer names every problem, and a rule across
    fields still runs when some other field failed. A required field that is left out is
    checked as null, so its rule words what is missing ("Enter a password."). A field with an
    alias (``displayName``, for the camelCase auth routes) is read under its alias alone, and
    its problems are keyed by it: the name a client sends is the name it is told about.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        """Problems no single field can see (an end before its start), given the fields that
        passed their own rules and the caller's context; none by default."""
        return {}

    @classmethod
    def check(cls, data: Any, *, context: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The fields sent, cleaned, and every problem by dotted field path."""
        if not isinstance(data, dict):
            return {}, {"body": ["Expected a JSON object."]}
        cleaned: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        known = set()
        for name, field in cls.model_fields.items():
            key = field.alias or name
            known.add(key)
            if key not in data and not field.is_required():
                continue
            try:
                cleaned[name] = _field_adapter(cls, name).validate_python(data.get(key), context=context)
            except ValidationError as exc:
                errors.update(details_of(exc, prefix=key))
        errors.update({str(name): ["Unknown field."] for name in data if name not in known})
        for name, messages in cls.problems(cleaned, context or {}).items():
            errors.setdefault(name, []).extend(messages)
        return cleaned, errors

    @classmethod
    def clean(cls, data: Any, *, context: dict[str, Any] | None = None, message: str = ATTENTION) -> dict[str, Any]:
        """The fields sent, cleaned, or one ``ValidationFailed`` that names every problem."""
        cleaned, errors = cls.check(data, context=context)
        if errors:
            raise ValidationFailed(message, details=errors)
        return cleaned

    @classmethod
    def read_query(cls, args: Mapping[str, str], *, message: str = "Invalid query parameters.") -> dict[str, Any]:
        """A query string's parameters, cleaned; a known parameter left blank counts as not
        given, an unknown one is refused (blank or not), so a typo (``limt``) is not ignored."""
        given = {name: value for name, value in args.items() if value.strip() or name not in cls.model_fields}
        return cls.clean(given, message=message)

    @classmethod
    def inline_schema(cls) -> dict[str, Any]:
        """The JSON Schema with nothing to resolve (for a contract nested in a rule)."""
        schema = cls.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=FolioJsonSchema)
        schema.pop("title", None)
        return schema


_ADAPTERS: dict[tuple[type, str], TypeAdapter] = {}


def _field_adapter(contract: type[Contract], name: str) -> TypeAdapter:
    """The validator of one field, built once per process."""
    adapter = _ADAPTERS.get((contract, name))
    if adapter is None:
        field = contract.model_fields[name]
        adapter = _ADAPTERS[(contract, name)] = TypeAdapter(Annotated[field.annotation, *field.metadata])
    return adapter


class Reply(BaseModel):
    """What one operation answers. ``of`` checks the shape strictly (no field added, dropped
    or of another type, not even "1000" for 1000), so a serializer cannot drift from what the
    document says without an error."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True, populate_by_name=True)
    dump_options: ClassVar[dict[str, Any]] = {"mode": "json", "by_alias": True}

    @classmethod
    def of(cls, data: dict[str, Any]) -> dict[str, Any]:
        return cls.model_validate(data).model_dump(**cls.dump_options)


def details_of(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    """pydantic's errors in the error format's ``details``: dotted path -> messages."""
    details: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "") or "body"
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, RowErrors):
            details.setdefault(path, []).append(str(cause))
            for field, messages in cause.fields.items():
                details.setdefault(field, []).extend(messages)
            continue
        details.setdefault(path, []).append(_message(error, cause))
    return details


def _message(error: dict[str, Any], cause: Any) -> str:
    if isinstance(cause, ValueError):
        return str(cause)
    kind = error["type"]
    if kind == "missing":
        return REQUIRED
    if kind == "extra_forbidden":
        return "Unknown field."
    return error["msg"]


class FolioJsonSchema(GenerateJsonSchema):
    """JSON Schemas without pydantic's noise: no generated titles on fields, no ``null``
    defaults (a contract's fields default to "not sent", which is not a value to send)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        if schema.get("default", 0) is None:  # the field's own schema, with a default it documents
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def json_schema(declared: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a contract, a reply or a type over them (``list[KeyReply]``). A
    model becomes a reference to its entry in ``components``, which collects every model the
    document uses; a plain dict is already a schema."""
    if isinstance(declared, dict):
        return declared
    mode = "validation" if _is_contract(declared) else "serialization"
    schema = TypeAdapter(declared).json_schema(ref_template=REF_TEMPLATE, mode=mode, schema_generator=FolioJsonSchema)
    components.update(schema.pop("$defs", {}))
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        components[declared.__name__] = schema
        return {"$ref": REF_TEMPLATE.format(model=declared.__name__)}
    return schema


def inline_json_schema(declared: Any) -> dict[str, Any]:
    """``json_schema`` with every reference replaced by what it names (tests, examples)."""
    components: dict[str, Any] = {}
    return resolve(json_schema(declared, components), components)


def resolve(schema: Any, components: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components:
            return resolve(components[ref.rsplit("/", 1)[1]], components)
        return {key: resolve(value, components) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolve(value, components) for value in schema]
    return schema


def _is_contract(declared: Any) -> bool:
    return isinstance(declared, type) and issubclass(declared, Contract)
