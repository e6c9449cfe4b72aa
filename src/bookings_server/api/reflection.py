"""Server reflection that serves the contract with its comments.

The generated `_pb2` modules embed descriptors without source info, so plain reflection gives
grpcurl and `buf curl` a `describe` with no comments. scripts/generate_protos.py also writes
the contract as a FileDescriptorSet with source info (generated/bookings/v1/
descriptor_set.binpb); `CommentedDescriptorPool` hands those file protos to the reflection
servicer and everything else (lookups, google/protobuf files) to the default pool. It also
resolves method and field names (`describe bookings.v1.BookingsService.CreateBooking`), which
the upb pool's FindFileContainingSymbol does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection

_DESCRIPTOR_SET = ("bookings.v1", "descriptor_set.binpb")


class _CommentedFile:
    """The parts of a FileDescriptor the reflection servicer uses, with source info."""

    def __init__(self, descriptor: FileDescriptor, pool: CommentedDescriptorPool) -> None:
        self._descriptor = descriptor
        self._pool = pool
        self.name: str = descriptor.name

    @property
    def dependencies(self) -> list[_CommentedFile]:
        return [
            _CommentedFile(dependency, self._pool) for dependency in self._descriptor.dependencies
        ]

    def CopyToProto(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        commented = self._pool.commented.get(self.name)
        if commented is None:
            self._descriptor.CopyToProto(proto)
        else:
            proto.CopyFrom(commented)


class CommentedDescriptorPool:
    """The default descriptor pool, as the reflection servicer sees it, plus comments."""

    def __init__(self, commented: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self._pool = descriptor_pool.Default()
        self.commented = {proto.name: proto for proto in commented}

    def FindFileByName(self, name: str) -> _CommentedFile:
        return _CommentedFile(self._pool.FindFileByName(name), self)

    def FindFileContainingSymbol(self, symbol: str) -> _CommentedFile:
        return _CommentedFile(self._file_of(symbol), self)

    def FindMessageTypeByName(self, name: str) -> Any:
        return self._pool.FindMessageTypeByName(name)

    def FindExtensionByNumber(self, message: Any, number: int) -> Any:
        return self._pool.FindExtensionByNumber(message, number)

    def FindAllExtensions(self, message: Any) -> Any:
        return self._pool.FindAllExtensions(message)

    def _file_of(self, symbol: str) -> FileDescriptor:
        """The file defining `symbol`: a type, or a method / field / value of one."""
        try:
            found: FileDescriptor = self._pool.FindFileContainingSymbol(symbol)
            return found
        except KeyError:
            parent = symbol.rpartition(".")[0]
            for find in (
                self._pool.FindServiceByName,
                self._pool.FindMessageTypeByName,
                self._pool.FindEnumTypeByName,
            ):
                try:
                    owner: FileDescriptor = find(parent).file
                    return owner
                except KeyError:
                    continue
            raise


def load_commented_files() -> list[descriptor_pb2.FileDescriptorProto]:
    """The contract's file protos with comments, from the generated descriptor set."""
    package, name = _DESCRIPTOR_SET
    data = resources.files(package).joinpath(name).read_bytes()
    return list(descriptor_pb2.FileDescriptorSet.FromString(data).file)


def enable_commented_reflection(server: grpc.Server, service_names: Iterable[str]) -> None:
    """Register reflection for `service_names` (plus itself), serving the comments."""
    pool = CommentedDescriptorPool(load_commented_files())
    reflection.enable_server_reflection((*service_names, reflection.SERVICE_NAME), server, pool)
