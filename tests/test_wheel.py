"""The project builds as a wheel that gives client teams the stubs and the server its migrations.

The build runs on a copy of the sources so it never writes build/ or egg-info into the working
tree, and without build isolation so it needs no network (setuptools is in the venv).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTO_MODULES = sorted(p.stem for p in (ROOT / "protos" / "bookings" / "v1").glob("*.proto"))
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src", "generated")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
            shutil.copytree(path, source / name, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, source / name)
    (source / "README.md").touch()
    dist = work / "dist"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps"]
    subprocess.run(
        [*build, "--no-build-isolation", "--quiet", "--wheel-dir", str(dist)],
        check=True,
        timeout=120,
    )
    (built,) = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_files(wheel: Path) -> set[PurePosixPath]:
    with zipfile.ZipFile(wheel) as archive:
        return {PurePosixPath(name) for name in archive.namelist()}


def test_wheel_contains_the_message_and_grpc_stubs_of_every_proto(
    wheel_files: set[PurePosixPath],
) -> None:
    assert PROTO_MODULES, "no protos found"
    for module in PROTO_MODULES:
        for suffix in ("_pb2.py", "_pb2_grpc.py", "_pb2.pyi"):
            assert PurePosixPath(f"bookings/v1/{module}{suffix}") in wheel_files


def test_wheel_contains_the_stub_packages(wheel_files: set[PurePosixPath]) -> None:
    assert PurePosixPath("bookings/__init__.py") in wheel_files
    assert PurePosixPath("bookings/v1/__init__.py") in wheel_files


def test_wheel_contains_the_alembic_migrations(wheel_files: set[PurePosixPath]) -> None:
    alembic = PurePosixPath("bookings_server/store/alembic")
    assert alembic / "env.py" in wheel_files
    assert alembic / "script.py.mako" in wheel_files
    shipped = {p.name for p in wheel_files if p.parent == alembic / "versions"}
    in_tree = {p.name for p in (ROOT / "src" / str(alembic) / "versions").glob("*.py")}
    assert "0001_catalog.py" in shipped
    assert in_tree <= shipped


def test_wheel_contains_the_demo_catalog_that_serve_loads(
    wheel_files: set[PurePosixPath],
) -> None:
    assert PurePosixPath("bookings_server/store/demo-catalog.yaml") in wheel_files


def test_wheel_declares_the_bookings_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "bookings = bookings_server.cli.main:main" in text


def test_stubs_from_the_wheel_import_and_name_the_services(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    probe = (
        "import bookings.v1, sys\n"
        "from bookings.v1 import bookings_service_pb2, bookings_service_pb2_grpc\n"
        "assert bookings.v1.__file__.startswith(sys.argv[1]), bookings.v1.__file__\n"
        "print(bookings_service_pb2.DESCRIPTOR.services_by_name['BookingsService'].full_name)\n"
        "print(bookings_service_pb2_grpc.BookingsServiceStub.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(unpacked)],
        env={"PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["bookings.v1.BookingsService", "BookingsServiceStub"]
