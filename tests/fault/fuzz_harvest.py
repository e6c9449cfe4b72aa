"""What the fuzz learns from the seeded server before it starts: real page tokens and real
messages, through the public RPCs only.

Every paged RPC (found from the descriptors: a request with `page_size` and `page_token`, a
response with `next_page_token`) is asked for a two-item page, empty or, for RPCs that need a
service and a range, with each seeded id and the coming week. The first request that gets a
next page token is kept with its token (the page-token fuzz sends it again with the token
mutated), and every message nested in the answers (services, staff members, sessions,
bookings, slots, working hours...) becomes an example its type's strategy starts from, as
does every request made of one of them ("CreateSession with this session"), so generated
requests get past the first validation and into the rules behind it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from fault.fault_support import CALL_TIMEOUT, method_path

PAGE_SIZE = 2


@dataclass(frozen=True)
class PagedRequest:
    """A request of a paged RPC and the `next_page_token` the server answered it with."""

    method: MethodDescriptor
    request: Message
    token: str


@dataclass(frozen=True)
class Harvest:
    paged: tuple[PagedRequest, ...]
    #: Real messages by their type's full name (well-known types left out).
    examples: dict[str, tuple[Message, ...]]


def is_paged(method: MethodDescriptor) -> bool:
    fields = method.input_type.fields_by_name
    return (
        not method.server_streaming
        and "page_token" in fields
        and "page_size" in fields
        and "next_page_token" in method.output_type.fields_by_name
    )


def _candidates(descriptor: Descriptor, ids: Sequence[str]) -> Iterator[Message]:
    cls = GetMessageClass(descriptor)
    yield cls(page_size=PAGE_SIZE)
    fields = descriptor.fields_by_name
    if not {"service_id", "start_date", "end_date"} <= set(fields):
        return
    now = datetime.now(UTC).replace(microsecond=0)
    for real in ids:
        request = cls(page_size=PAGE_SIZE)
        if fields["service_id"].is_repeated:
            request.service_id.append(real)  # type: ignore[attr-defined]
        else:
            request.service_id = real  # type: ignore[attr-defined]
        request.start_date.FromDatetime(now)  # type: ignore[attr-defined]
        request.end_date.FromDatetime(now + timedelta(days=7))  # type: ignore[attr-defined]
        yield request


def _call(
    channel: grpc.Channel,
    method: MethodDescriptor,
    request: Message,
    metadata: list[tuple[str, str]],
) -> Message | None:
    call = channel.unary_unary(
        method_path(method),
        request_serializer=GetMessageClass(method.input_type).SerializeToString,
        response_deserializer=GetMessageClass(method.output_type).FromString,
    )
    try:
        reply: Message = call(request, metadata=tuple(metadata), timeout=CALL_TIMEOUT)
    except grpc.RpcError:
        return None
    return reply


def nested_messages(message: Message) -> Iterator[Message]:
    """Every message set inside `message` (not itself), well-known types left out."""
    for field, value in message.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        for item in value if field.is_repeated else [value]:
            if not item.DESCRIPTOR.full_name.startswith("google.protobuf."):
                yield item
                yield from nested_messages(item)


def harvest(
    channel: grpc.Channel,
    methods: Sequence[MethodDescriptor],
    metadata: list[tuple[str, str]],
    ids: Sequence[str],
) -> Harvest:
    """The paged requests with their tokens, and the messages of every answer."""
    paged = []
    examples: defaultdict[str, list[Message]] = defaultdict(list)
    for method in filter(is_paged, methods):
        for request in _candidates(method.input_type, ids):
            reply = _call(channel, method, request, metadata)
            token = "" if reply is None else str(reply.next_page_token)  # type: ignore[attr-defined]
            if reply is None or not token:
                continue
            paged.append(PagedRequest(method, request, token))
            examples[request.DESCRIPTOR.full_name].append(request)
            for found in nested_messages(reply):
                examples[found.DESCRIPTOR.full_name].append(found)
            break
    for method in methods:
        descriptor = method.input_type
        around = _requests_around(descriptor, examples) + _requests_naming(descriptor, examples)
        examples[descriptor.full_name] += around
    return Harvest(tuple(paged), {name: tuple(found) for name, found in examples.items()})


def _requests_around(
    descriptor: Descriptor, examples: Mapping[str, Sequence[Message]]
) -> list[Message]:
    """Requests whose one message field is a real message ("CreateSession this session")."""
    cls = GetMessageClass(descriptor)
    requests = []
    for field in descriptor.fields:
        if field.message_type is None or field.is_repeated:
            continue
        for real in examples.get(field.message_type.full_name, ()):
            request = cls()
            getattr(request, field.name).CopyFrom(real)
            requests.append(request)
    return requests


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _requests_naming(
    descriptor: Descriptor, examples: Mapping[str, Sequence[Message]]
) -> list[Message]:
    """Requests naming a real entity by id ("ConfirmBooking this booking at its revision"):
    a string field `<entity>_id` set to a real entity's id, and the request's other scalar
    fields that the entity also has (`revision`) copied from it."""
    entities = {_snake(found[0].DESCRIPTOR.name): found for found in examples.values() if found}
    cls = GetMessageClass(descriptor)
    requests = []
    for field in descriptor.fields:
        kind = field.name.removesuffix("_id")
        if field.type != FieldDescriptor.TYPE_STRING or kind == field.name or field.is_repeated:
            continue
        for entity in entities.get(kind, ()):
            request = cls(**{field.name: getattr(entity, "id", "")})
            for shared in _shared_scalars(descriptor, entity.DESCRIPTOR, field):
                setattr(request, shared, getattr(entity, shared))
            requests.append(request)
    return requests


def _shared_scalars(request: Descriptor, entity: Descriptor, skip: FieldDescriptor) -> list[str]:
    """Singular scalar fields of `request` (but `skip`) that `entity` has with the same type."""
    shared = []
    for field in request.fields:
        same = entity.fields_by_name.get(field.name)
        scalar = field.message_type is None and not field.is_repeated
        if field is not skip and scalar and same is not None and same.type == field.type:
            shared.append(field.name)
    return shared
