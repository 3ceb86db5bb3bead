"""One Python function per object step, generated from its fields (as graphql-jit does).

A loop over field steps pays, per field, the dispatch on the field's kind and type and a call
per wrapper (non-null, then leaf); the generated function spells each field out instead, so a
scalar field costs an attribute read and its serializer. Only names from the compiler go into
the source (response keys are GraphQL names, attributes Python identifiers, both checked);
every value the code needs is passed in its namespace.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from graphql import GraphQLBoolean, GraphQLID, GraphQLString, Undefined
from graphql.pyutils import Path
from strawberry.schema.schema_converter import CustomGraphQLEnumType

from graph.audit.returned_ids import is_global_id
from graph.core.scalars import serialize_decimal
from graph.execution.steps import (
    ATTRIBUTE,
    TYPENAME,
    CompleteObject,
    FieldStep,
    ObjectStep,
    Unplanned,
)

_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
# The serializers that hand a value of this exact Python type back unchanged.
_PASSTHROUGH: dict[Any, str] = {
    GraphQLString.serialize: "str",
    GraphQLID.serialize: "str",
    GraphQLBoolean.serialize: "bool",
    serialize_decimal: "str",  # an amount the ledger formatted
}


def object_function(step: ObjectStep) -> CompleteObject:
    namespace: dict[str, Any] = {
        "Path": Path,
        "Unplanned": Unplanned,
        "Undefined": Undefined,
        "is_global_id": is_global_id,
        "is_type_of": step.type.is_type_of,
        "step": step,
        "type_name": step.name,
    }
    lines = ["def complete(source, path, run, sink):"]
    if step.type.is_type_of is not None:
        lines += [
            "    if not is_type_of(source, None):",
            "        raise Unplanned('a value of another type')",
        ]
    if step.carries_ids:
        lines += [
            "    if sink is not None:",
            "        own = []",
            "        below = []",
            "    else:",
            "        own = below = None",
        ]
    else:
        lines.append("    own = below = None")
    lines.append("    out = {}")
    for index, field in enumerate(step.fields):
        lines += _field_lines(index, field, step, namespace)
    if step.carries_ids:
        lines += [
            "    if own is not None:",
            "        sink.extend(own)",
            "        sink.extend(below)",
        ]
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<plan {step.name}>", "exec"), namespace)  # noqa: S102
    complete: CompleteObject = namespace["complete"]
    return complete


def _object_lines(
    index: int, field: FieldStep, key: str, sink: str, namespace: dict[str, Any]
) -> list[str]:
    """An object field, or a list of objects, without a path: the object's own function
    called directly."""
    assert field.object_step is not None
    namespace[f"o{index}"] = field.object_step.complete
    namespace["null_item"] = _null_item
    lines = ["    if v is None:"]
    lines.append(
        "        raise Unplanned('null for a non-null field')" if field.non_null else "        pass"
    )
    lines.append(
        "    elif type(v) is not list and type(v) is not tuple:" if field.is_list else "    else:"
    )
    if field.is_list:
        lines += ["        raise Unplanned('not a list')", "    else:"]
        if field.items_non_null:
            item = f"o{index}(x, None, run, {sink}) if x is not None else null_item()"
        else:
            item = f"None if x is None else o{index}(x, None, run, {sink})"
        lines.append(f"        v = [{item} for x in v]")
    else:
        lines.append(f"        v = o{index}(v, None, run, {sink})")
    lines.append(f"    out[{key}] = v")
    return lines


def _null_item() -> Any:
    raise Unplanned("null for a non-null list item")


def _enum_names(serialize: Any) -> tuple[type, dict[Any, str]] | None:
    """For a Strawberry enum: its Python class and each member's GraphQL name, as its
    `serialize` finds them (the first value equal to the member's), without the search."""
    owner = getattr(serialize, "__self__", None)
    if not isinstance(owner, CustomGraphQLEnumType):
        return None
    names: dict[Any, str] = {}
    for name, value in owner.values.items():
        names.setdefault(owner.wrapped_cls(value.value), name)
    return owner.wrapped_cls, names


def _field_lines(
    index: int, field: FieldStep, step: ObjectStep, namespace: dict[str, Any]
) -> list[str]:
    if not _GRAPHQL_NAME.match(field.key):
        raise Unplanned(f"response key {field.key!r}")
    key = repr(field.key)
    if field.kind == TYPENAME:
        return [f"    out[{key}] = type_name"]
    namespace[f"f{index}"] = field
    namespace[f"c{index}"] = field.complete
    lines = []
    sink = "None"
    if field.carries_ids:
        sink = f"s{index}"
        lines += [
            "    if below is not None:",
            f"        {sink} = []",
            f"        below.append({sink})",
            "    else:",
            f"        {sink} = None",
        ]
    if field.kind != ATTRIBUTE:
        return [
            *lines,
            f"    run.resolve(step, f{index}, source, Path(path, {key}, type_name),"
            f" out, {sink}, own)",
        ]
    attribute = field.attribute
    if attribute.isidentifier() and not keyword.iskeyword(attribute):
        lines.append(f"    v = source.{attribute}")
    else:
        namespace[f"a{index}"] = attribute
        lines.append(f"    v = getattr(source, a{index})")
    if field.object_step is not None and not field.needs_path:
        return lines + _object_lines(index, field, key, sink, namespace)
    if field.serialize is None:
        path = f"Path(path, {key}, type_name)" if field.needs_path else "None"
        lines.append(f"    out[{key}] = c{index}(v, {path}, run, {sink})")
        return lines
    namespace[f"z{index}"] = field.serialize
    passthrough = _PASSTHROUGH.get(field.serialize)
    names = _enum_names(field.serialize)
    lines += ["    if v is None:"]
    lines.append(
        "        raise Unplanned('null for a non-null field')" if field.non_null else "        pass"
    )
    lines.append("    else:")
    indent = "        "
    if passthrough is not None:
        lines.append(f"        if type(v) is not {passthrough}:")
        indent = "            "
    elif names is not None:
        namespace[f"e{index}"], namespace[f"n{index}"] = names
        lines += [
            f"        name = n{index}.get(v) if type(v) is e{index} else None",
            "        if name is not None:",
            "            v = name",
            "        else:",
        ]
        indent = "            "
    lines += [
        f"{indent}v = z{index}(v)",
        f"{indent}if v is None or v is Undefined:",
        f"{indent}    raise Unplanned('a value its type cannot serialize')",
    ]
    lines.append(f"    out[{key}] = v")
    if field.is_id:
        check = "" if field.trusted_id else " and is_global_id(v)"
        lines += [f"    if own is not None and type(v) is str{check}:", "        own.append(v)"]
    return lines
