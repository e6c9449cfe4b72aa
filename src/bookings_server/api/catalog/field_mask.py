"""Applying an update request to the stored entity, AIP-134 style, on the proto level.

With an empty update_mask every mutable field is replaced by the request's value; with a mask,
only the named fields (dotted paths into sub-messages) are. Output-only fields are never taken
from the request, and naming one in the mask is INVALID_ARGUMENT; so is a path that does not
exist.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from bookings_server.domain.errors import InvalidArgument

M = TypeVar("M", bound=Message)


def merge_update(
    stored: M,
    requested: M,
    mask: field_mask_pb2.FieldMask,
    *,
    output_only: Collection[str],
    keep_when_unset: Collection[str] = (),
) -> M:
    """The stored message with the requested changes applied.

    `keep_when_unset`: immutable fields a full update (empty mask) may leave unset (e.g. a
    service's type); the stored value is kept, and any other value is left for the domain to
    refuse.
    """
    merged = type(stored)()
    merged.CopyFrom(stored)
    if not mask.paths:
        merged.CopyFrom(requested)
        for name in (*output_only, *keep_when_unset):
            if name in output_only or not _is_set(requested, name):
                _copy_field(stored, merged, name)
        return merged
    if not mask.IsValidForDescriptor(stored.DESCRIPTOR):  # type: ignore[arg-type]
        raise InvalidArgument.field("update_mask", f"unknown field path in {list(mask.paths)}")
    named_output = sorted({p.split(".")[0] for p in mask.paths} & set(output_only))
    if named_output:
        raise InvalidArgument.field(
            "update_mask", f"output-only fields cannot be set: {named_output}"
        )
    mask.MergeMessage(requested, merged, replace_message_field=True, replace_repeated_field=True)
    return merged


def _is_set(message: Message, name: str) -> bool:
    field = message.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None and not field.is_repeated:
        return message.HasField(name)
    return bool(getattr(message, name))


def _copy_field(source: Message, target: Message, name: str) -> None:
    field = source.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None and not field.is_repeated:
        if source.HasField(name):
            getattr(target, name).CopyFrom(getattr(source, name))
        else:
            target.ClearField(name)
    elif field.is_repeated:
        target.ClearField(name)
        getattr(target, name).extend(getattr(source, name))
    else:
        setattr(target, name, getattr(source, name))
