"""Hypothesis strategies built from protobuf descriptors, generic over every message.

`message_strategy(descriptor, values)` draws messages of any type: every field may be set or
left unset, oneofs pick one member, repeated and map fields get a few entries, enums include
undefined numbers (proto3 enums are open), Timestamps and Durations range from sensible
values to the limits of the API and of their wire types, and string fields draw from pools
that know the domain as well as from arbitrary text: fields named like ids, zones, clock
times, recurrences, page tokens, emails, cursors and field-mask paths get the pools of
fuzz_strings, fuzz_zones, fuzz_rrules and fuzz_page_tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from fault.fuzz_page_tokens import page_token_strategy
from fault.fuzz_rrules import rrules
from fault.fuzz_strings import CLOCK_TIMES, CURSORS, EMAILS, FIELD_MASK_PATHS, id_strategy
from fault.fuzz_zones import zone_names

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)
NOW = int(datetime.now(UTC).timestamp())
#: Timestamp seconds at the limits: the epoch, the catalog's years (1970-2200), the API's
#: (before 9000), the years 1, 9999 and 10000 (the proto range ends with 9999), int64.
TIMESTAMP_SECONDS = (
    0,
    -1,
    7258118400,
    7289654399,
    7289654400,
    221845391999,
    221845392000,
    -62135596800,
    -62135596801,
    253402300799,
    253402300800,
    INT64[0],
    INT64[1],
    -INT64[1],
)
#: Nanos: valid edges and out of range both ways.
NANOS = (0, 1, 999_999_999, 1_000_000_000, -1, -999_999_999, INT32[0], INT32[1])
#: Duration seconds at the limits: zero, a day, the API's 3660 days, the proto's 10,000
#: years, int64 (each both ways).
DURATION_SECONDS = (
    0,
    60,
    900,
    3600,
    86400,
    86401,
    316224000,
    316224001,
    315576000000,
    315576000001,
    INT64[1],
    -60,
    -316224001,
    -315576000001,
    -INT64[1],
    INT64[0],
)
MAX_DEPTH = 5
SIGNED32 = (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32)
SIGNED64 = (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64)


@dataclass(frozen=True)
class ServerValues:
    """What the seeded server handed out, mixed into generated fields."""

    #: Real ids of every kind (staff, services, sessions, bookings).
    ids: tuple[str, ...] = ()
    #: Real page tokens of every paged RPC.
    page_tokens: tuple[str, ...] = ()
    #: Real messages by type full name: a message of such a type is often drawn as one of
    #: them with a few fields changed (fuzz_harvest.py).
    examples: Mapping[str, tuple[Message, ...]] = dataclasses.field(default_factory=dict)


def _int_strategy(bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    low, high = bounds
    edges = [v for v in (low, high, -1, 0, 1, 2, 500, 501, 1000, 1001) if low <= v <= high]
    return st.one_of(
        st.sampled_from(edges), st.integers(max(low, -5), min(high, 2000)), st.integers(low, high)
    )


def _is_id(name: str) -> bool:
    return name.endswith(("_id", "_ids")) or name == "id"


#: (does a field name want this pool, the pool) for the domain-aware string pools.
_NAMED_POOLS: tuple[
    tuple[Callable[[str], bool], Callable[[ServerValues], st.SearchStrategy[str]]], ...
] = (
    (_is_id, lambda values: id_strategy(values.ids)),
    (lambda name: "zone" in name, lambda _: st.sampled_from(zone_names())),
    (lambda name: name.endswith("_time"), lambda _: st.sampled_from(CLOCK_TIMES)),
    (lambda name: name == "recurrence", lambda _: rrules()),
    (lambda name: name == "page_token", lambda values: page_token_strategy(values.page_tokens)),
    (lambda name: name == "paths", lambda _: st.sampled_from(FIELD_MASK_PATHS)),
    (lambda name: "email" in name, lambda _: st.sampled_from(EMAILS)),
    (lambda name: "cursor" in name, lambda _: st.sampled_from(CURSORS)),
)


def _string_strategy(field: FieldDescriptor, values: ServerValues) -> st.SearchStrategy[str]:
    """The pools the field's name asks for (first: Hypothesis favours the first branch),
    or arbitrary text."""
    pools = [pool(values) for wants, pool in _NAMED_POOLS if wants(field.name)]
    return st.one_of(*pools, st.text(max_size=30), st.just(""))


def _timestamp(cls: type[Message]) -> st.SearchStrategy[Message]:
    seconds = st.one_of(
        st.integers(NOW - 86400 * 400, NOW + 86400 * 400),
        st.integers(*INT64),
        st.sampled_from(TIMESTAMP_SECONDS),
    )
    nanos = st.one_of(st.just(0), st.sampled_from(NANOS), st.integers(*INT32))
    return st.builds(cls, seconds=seconds, nanos=nanos)


def _duration(cls: type[Message]) -> st.SearchStrategy[Message]:
    seconds = st.one_of(
        st.sampled_from(DURATION_SECONDS),
        st.integers(-86400 * 40, 86400 * 40),
        st.integers(*INT64),
    )
    nanos = st.one_of(st.just(0), st.sampled_from(NANOS), st.integers(*INT32))
    return st.builds(cls, seconds=seconds, nanos=nanos)


def _scalar(field: FieldDescriptor, values: ServerValues) -> st.SearchStrategy[Any]:
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return _string_strategy(field, values)
    if t == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=40)
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t == FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.integers(*INT32))
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32 if t == FieldDescriptor.TYPE_FLOAT else 64)
    if t in SIGNED32:
        return _int_strategy(INT32)
    if t in SIGNED64:
        return _int_strategy(INT64)
    if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return _int_strategy(UINT32)
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return _int_strategy(UINT64)
    raise TypeError(f"unsupported field type {t} of {field.full_name}")


def _is_synthetic(oneof: OneofDescriptor) -> bool:
    """The hidden oneof of a proto3 `optional` field."""
    return len(oneof.fields) == 1 and oneof.name == f"_{oneof.fields[0].name}"


def _is_map(field: FieldDescriptor) -> bool:
    return bool(
        field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry
    )


def message_strategy(
    descriptor: Descriptor, values: ServerValues = ServerValues(), depth: int = 0
) -> st.SearchStrategy[Message]:
    """Any message of `descriptor`'s type (recursion stops at MAX_DEPTH with empty messages)."""
    cls = GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return _timestamp(cls)
    if descriptor.full_name == "google.protobuf.Duration":
        return _duration(cls)
    if depth >= MAX_DEPTH or not descriptor.fields:
        return st.just(cls())
    oneofs = [o for o in descriptor.oneofs if not _is_synthetic(o)]
    in_oneof = {f.name for o in oneofs for f in o.fields}
    plain = [f for f in descriptor.fields if f.name not in in_oneof]

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        message = cls()
        for member in plain:
            if draw(st.booleans()):
                _set_field(draw, message, member, values, depth)
        for oneof in oneofs:
            chosen = draw(st.sampled_from([None, *oneof.fields]))
            if chosen is not None:
                _set_field(draw, message, chosen, values, depth)
        return message

    real = values.examples.get(descriptor.full_name, ())
    if not real:
        return build()
    # Hypothesis favours the first branch of one_of: the near-real draws come first.
    return st.one_of(_near_real(descriptor, real, values, depth), build())


def _near_real(
    descriptor: Descriptor, real: Sequence[Message], values: ServerValues, depth: int
) -> st.SearchStrategy[Message]:
    """One of the real messages with one or two fields cleared or redrawn."""
    cls = GetMessageClass(descriptor)
    changed = st.lists(
        st.sampled_from(list(descriptor.fields)), min_size=1, max_size=2, unique=True
    )

    @st.composite
    def near(draw: st.DrawFn) -> Message:
        message = cls()
        message.CopyFrom(draw(st.sampled_from(real)))
        for member in draw(changed):
            message.ClearField(member.name)
            if draw(st.integers(0, 3)):
                _set_field(draw, message, member, values, depth)
        return message

    return near()


def _set_field(
    draw: st.DrawFn, message: Message, field: FieldDescriptor, values: ServerValues, depth: int
) -> None:
    target = getattr(message, field.name)
    if _is_map(field):
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        for _ in range(draw(st.integers(0, 3))):
            key = draw(_scalar(key_field, values))
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                value = draw(message_strategy(value_field.message_type, values, depth + 1))
                target[key].CopyFrom(value)
            else:
                target[key] = draw(_scalar(value_field, values))
        return
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        element = message_strategy(field.message_type, values, depth + 1)
        if field.is_repeated:
            for value in draw(st.lists(element, max_size=3)):
                target.add().CopyFrom(value)
        else:
            target.CopyFrom(draw(element))
        return
    if field.is_repeated:
        target.extend(draw(st.lists(_scalar(field, values), max_size=4)))
        return
    setattr(message, field.name, draw(_scalar(field, values)))


def repeated_paths(descriptor: Descriptor, depth: int = 3) -> list[tuple[FieldDescriptor, ...]]:
    """Every repeated (or map) field reachable from `descriptor`, as a path of fields."""
    found: list[tuple[FieldDescriptor, ...]] = []

    def walk(desc: Descriptor, prefix: tuple[FieldDescriptor, ...]) -> None:
        well_known = desc.full_name.startswith("google.protobuf.")
        if len(prefix) >= depth or (well_known and desc.full_name != "google.protobuf.FieldMask"):
            return
        for field in desc.fields:
            path = (*prefix, field)
            if field.is_repeated:
                found.append(path)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                walk(field.message_type, path)

    walk(descriptor, ())
    return found


def with_huge_repeated(
    descriptor: Descriptor, path: Sequence[FieldDescriptor], count: int
) -> Message:
    """A request whose repeated field at `path` holds `count` minimal, valid-looking entries."""
    request = GetMessageClass(descriptor)()
    parent = request
    for field in path[:-1]:
        parent = getattr(parent, field.name)
    last = path[-1]
    target = getattr(parent, last.name)
    if _is_map(last):
        value_field = last.message_type.fields_by_name["value"]
        for i in range(count):
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                target[f"k{i}"].SetInParent()
            else:
                target[f"k{i}"] = _minimal(value_field, i)
    elif last.type == FieldDescriptor.TYPE_MESSAGE:
        for _ in range(count):
            target.add()
    else:
        target.extend(_minimal(last, i) for i in range(count))
    return request


def _minimal(field: FieldDescriptor, i: int) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING:
        return f"x{i}"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"x"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_ENUM:
        return 1
    return 1
