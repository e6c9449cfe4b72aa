"""Regenerate the Python stubs in generated/ from protos/ with the pinned grpcio-tools.

The typed stubs (`*_pb2.pyi`, `*_pb2_grpc.pyi`) come from the pinned mypy-protobuf plugins,
`protoc-gen-mypy` and `protoc-gen-mypy_grpc`, found next to this Python (the venv's bin).

Usage:
    python scripts/generate_protos.py            # write into generated/
    python scripts/generate_protos.py --out DIR  # write into DIR (the regeneration check)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GENERATED = ROOT / "generated"
#: The contract as a FileDescriptorSet *with comments* (server reflection serves it, so
#: grpcurl/buf curl `describe` show the API reference); relative to the output folder.
DESCRIPTOR_SET = Path("bookings/v1/descriptor_set.binpb")


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))


def plugin(name: str) -> Path:
    """The protoc plugin `name` of this Python's environment (else the first one on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install the dev extra (mypy-protobuf)")
    return Path(found)


def generate(out: Path) -> None:
    """Run protoc once over every proto file and add the package __init__ files."""
    (out / DESCRIPTOR_SET).parent.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={out}",
        f"--plugin=protoc-gen-mypy={plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={plugin('protoc-gen-mypy_grpc')}",
        f"--mypy_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_grpc_out={out}",
        f"--descriptor_set_out={out / DESCRIPTOR_SET}",
        "--include_source_info",
        *proto_files(),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for package in {p.parent for p in out.rglob("*_pb2.py")}:
        while package != out:
            (package / "__init__.py").touch()
            package = package.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=GENERATED)
    generate(parser.parse_args(argv).out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
