"""Hypothesis strategies built from protobuf descriptors, generic over every message.

`message_strategy(descriptor)` draws messages of any type: every field may be set or left
unset, oneofs pick one member, repeated and map fields get a few entries, enums include
undefined numbers (proto3 enums are open), Timestamps and Durations range from sensible
values to the extremes of their wire types, and string fields that look like ids, zones or
times draw from real ids and tricky values as well as arbitrary text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)
NOW = int(datetime.now(UTC).timestamp())
#: Zones: valid, DST-heavy, odd offsets, and junk.
ZONES = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Not/AZone",
    "",
    "../../etc/passwd",
)
CLOCK_TIMES = ("00:00", "09:00", "17:30", "24:00", "23:59", "25:00", "9", "12:60", "-1:00", "")
MAX_DEPTH = 5
SIGNED32 = (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32)
SIGNED64 = (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64)


def _int_strategy(bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    low, high = bounds
    edges = [v for v in (low, high, -1, 0, 1, 2, 500, 501, 1000, 1001) if low <= v <= high]
    return st.one_of(
        st.sampled_from(edges), st.integers(max(low, -5), min(high, 2000)), st.integers(low, high)
    )


def _string_strategy(field: FieldDescriptor, ids: Sequence[str]) -> st.SearchStrategy[str]:
    name = field.name
    choices: list[st.SearchStrategy[str]] = [st.text(max_size=30), st.just("")]
    if (name.endswith("_id") or name.endswith("_ids") or name == "id") and ids:
        choices.append(st.sampled_from(list(ids)))
    if "zone" in name:
        choices.append(st.sampled_from(ZONES))
    if name.endswith("_time"):
        choices.append(st.sampled_from(CLOCK_TIMES))
    if name == "recurrence":
        choices.append(
            st.sampled_from(
                [
                    "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3",
                    "FREQ=WEEKLY;COUNT=100000",
                    "FREQ=WEEKLY",
                    "FREQ=DAILY;COUNT=2",
                    "FREQ=WEEKLY;UNTIL=99991231T000000Z",
                    "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
                ]
            )
        )
    if name == "page_token":
        choices.append(st.sampled_from(["bm90IGEgdG9rZW4", "%%%", "eyJvZmZzZXQiOiAtMX0="]))
    if name == "paths":
        choices.append(st.sampled_from(["name", "capacity", "id", "type", "a.b.c", "*"]))
    return st.one_of(choices)


def _timestamp(cls: type[Message]) -> st.SearchStrategy[Message]:
    seconds = st.one_of(
        st.integers(NOW - 86400 * 400, NOW + 86400 * 400),
        st.integers(*INT64),
        st.sampled_from([0, -62135596800, 253402300799, 253402300800, -62135596801]),
    )
    nanos = st.one_of(st.just(0), st.integers(*INT32), st.integers(0, 999_999_999))
    return st.builds(cls, seconds=seconds, nanos=nanos)


def _duration(cls: type[Message]) -> st.SearchStrategy[Message]:
    seconds = st.one_of(
        st.sampled_from([0, 60, 900, 1800, 3600, 86400, -60, 315576000000, 315576000001]),
        st.integers(-86400 * 40, 86400 * 40),
        st.integers(*INT64),
    )
    nanos = st.one_of(st.just(0), st.integers(*INT32))
    return st.builds(cls, seconds=seconds, nanos=nanos)


def _scalar(field: FieldDescriptor, ids: Sequence[str]) -> st.SearchStrategy[Any]:
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return _string_strategy(field, ids)
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
    descriptor: Descriptor, ids: Sequence[str] = (), depth: int = 0
) -> st.SearchStrategy[Message]:
    """Any message of `descriptor`'s type (recursion stops at MAX_DEPTH with empty messages)."""
    cls = GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return _timestamp(cls)
    if descriptor.full_name == "google.protobuf.Duration":
        return _duration(cls)
    if depth >= MAX_DEPTH:
        return st.just(cls())
    oneofs = [o for o in descriptor.oneofs if not _is_synthetic(o)]
    in_oneof = {f.name for o in oneofs for f in o.fields}
    plain = [f for f in descriptor.fields if f.name not in in_oneof]

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        message = cls()
        for field in plain:
            if draw(st.booleans()):
                _set_field(draw, message, field, ids, depth)
        for oneof in oneofs:
            chosen = draw(st.sampled_from([None, *oneof.fields]))
            if chosen is not None:
                _set_field(draw, message, chosen, ids, depth)
        return message

    return build()


def _set_field(
    draw: st.DrawFn, message: Message, field: FieldDescriptor, ids: Sequence[str], depth: int
) -> None:
    target = getattr(message, field.name)
    if _is_map(field):
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        for _ in range(draw(st.integers(0, 3))):
            key = draw(_scalar(key_field, ids))
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                value = draw(message_strategy(value_field.message_type, ids, depth + 1))
                target[key].CopyFrom(value)
            else:
                target[key] = draw(_scalar(value_field, ids))
        return
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        element = message_strategy(field.message_type, ids, depth + 1)
        if field.is_repeated:
            for value in draw(st.lists(element, max_size=3)):
                target.add().CopyFrom(value)
        else:
            target.CopyFrom(draw(element))
        return
    if field.is_repeated:
        target.extend(draw(st.lists(_scalar(field, ids), max_size=4)))
        return
    setattr(message, field.name, draw(_scalar(field, ids)))


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
