"""Request text PostgreSQL cannot store: NUL characters anywhere in a request.

Checked once for every call by the decode interceptor, so no RPC can reach the store with
text that SQLite would keep and PostgreSQL would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import Message

from bookings_server.domain.errors import FieldViolation, InvalidArgument


def check_text(message: Message) -> None:
    """Refuse NUL characters in any string of a request, naming every field that holds one.

    Walks every set field, including repeated fields, maps and nested Structs.
    """
    violations = [
        FieldViolation(path, "must not contain NUL characters") for path in _nul_paths(message, "")
    ]
    if violations:
        raise InvalidArgument.of(violations)


def _nul_paths(message: Message, path: str) -> Iterator[str]:
    for field, value in message.ListFields():
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                yield from _value_nul_paths(key, f"{name}[{key!r}]")
                yield from _value_nul_paths(item, f"{name}[{key!r}]")
        elif field.is_repeated:
            for index, item in enumerate(value):
                yield from _value_nul_paths(item, f"{name}[{index}]")
        else:
            yield from _value_nul_paths(value, name)


def _value_nul_paths(value: object, path: str) -> Iterator[str]:
    if isinstance(value, Message):
        yield from _nul_paths(value, path)
    elif isinstance(value, str) and "\x00" in value:
        yield path
