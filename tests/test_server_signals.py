"""SIGTERM / SIGINT: health turns NOT_SERVING, in-flight calls finish, the process exits 0."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import grpc
import pytest
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_process import ServerProcess, bookings_serve

from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.api.auth.tokens import mint_token
from bookings_server.config import Config
from bookings_server.domain.identity import IdentityType

SLOW_SCOPE = "SCOPE.DC-BOOKINGS.READ-CALENDAR"

#: A production server (build_server + run_until_signalled) plus one test-only RPC,
#: draintest.v1.SlowService/Sleep, that sleeps for the requested seconds. The service is
#: declared with a descriptor carrying `required_scopes`, so the real auth interceptor admits it.
SLOW_SERVER_SCRIPT = f"""
import sys, time
from pathlib import Path

import grpc
from bookings.v1 import options_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, wrappers_pb2
from grpc_health.v1 import health

from bookings_server.api.auth.scopes import services_named
from bookings_server.api.servicers import SERVICE_NAMES
from bookings_server.config import Config
from bookings_server.logs import configure_logging
from bookings_server.server import build_server
from bookings_server.serving import DrainControls, run_until_signalled

proto = descriptor_pb2.FileDescriptorProto(
    name="draintest/v1/slow.proto", package="draintest.v1", syntax="proto3",
    dependency=["google/protobuf/wrappers.proto", "bookings/v1/options.proto"],
)
method = proto.service.add(name="SlowService").method.add(
    name="Sleep",
    input_type=".google.protobuf.DoubleValue",
    output_type=".google.protobuf.StringValue",
)
method.options.Extensions[options_pb2.required_scopes].append({SLOW_SCOPE!r})
descriptor_pool.Default().AddSerializedFile(proto.SerializeToString())
slow_service = descriptor_pool.Default().FindServiceByName("draintest.v1.SlowService")


def sleep(request, context):
    print("sleeping", flush=True)
    time.sleep(request.value)
    return wrappers_pb2.StringValue(value=f"slept {{request.value}}")


configure_logging()
controls = DrainControls()
config = Config(address="127.0.0.1:0", data_dir=Path(sys.argv[1]), grace_period=10)
server, port = build_server(
    config,
    guarded_services=(*services_named(SERVICE_NAMES), slow_service),
    controls=controls,
)
server.add_generic_rpc_handlers([
    grpc.method_handlers_generic_handler("draintest.v1.SlowService", {{
        "Sleep": grpc.unary_unary_rpc_method_handler(
            sleep,
            request_deserializer=wrappers_pb2.DoubleValue.FromString,
            response_serializer=wrappers_pb2.StringValue.SerializeToString,
        )
    }})
])
server.start()
print(f"serving on port {{port}}", flush=True)
run_until_signalled(server, controls, config.grace_period)
"""


def _bearer(data_dir: Path) -> list[tuple[str, str]]:
    token = mint_token(
        load_signing_keys(Config(data_dir=data_dir)),
        site_id="site-a",
        identity_type=IdentityType.OWNER,
        identity_id="owner-1",
        scopes=[SLOW_SCOPE],
    )
    return [("authorization", f"Bearer {token}")]


def _new_call_code(port: int) -> grpc.StatusCode:
    """The status of a health check sent on a new connection."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            return code
        return grpc.StatusCode.OK


def _access_log(process: ServerProcess) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in process.stderr if line.startswith("{")]
    return [entry for entry in entries if entry["logger"] == "bookings.access"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_signal_lets_the_in_flight_call_finish_then_exits_zero(
    tmp_path: Path, signum: signal.Signals
) -> None:
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_SERVER_SCRIPT)
    process = ServerProcess([sys.executable, str(script), str(tmp_path / "data")])
    try:
        port = process.port()
        results: list[str] = []
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            sleep = channel.unary_unary(
                "/draintest.v1.SlowService/Sleep",
                request_serializer=wrappers_pb2.DoubleValue.SerializeToString,
                response_deserializer=wrappers_pb2.StringValue.FromString,
            )
            call = threading.Thread(
                target=lambda: results.append(
                    sleep(
                        wrappers_pb2.DoubleValue(value=2.0),
                        metadata=_bearer(tmp_path / "data"),
                        timeout=15,
                    ).value
                )
            )
            call.start()
            process.wait_for_stdout(lambda line: line.startswith("sleeping"))
            process.send(signum)
            process.wait_for_stderr(lambda line: "draining" in line)
            refused = _new_call_code(port)
            call.join(timeout=15)

        # grpcio refuses a new call with UNAVAILABLE, or CANCELLED when it raced the shutdown.
        assert refused in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        assert results == ["slept 2.0"]
        assert process.wait() == 0
        assert any(
            entry["method"] == "/draintest.v1.SlowService/Sleep" and entry["code"] == "OK"
            for entry in _access_log(process)
        )
    finally:
        process.stop()


def test_sigterm_turns_health_not_serving_for_watchers_and_exits_zero(tmp_path: Path) -> None:
    process = bookings_serve(tmp_path / "data", "--grace-period", "1")
    try:
        port = process.port()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service="bookings.v1.BookingsService"), timeout=15
            )
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING

            process.send(signal.SIGTERM)

            assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert process.wait() == 0
    finally:
        process.stop()


def test_two_signals_a_moment_apart_stop_the_server_promptly(tmp_path: Path) -> None:
    process = bookings_serve(tmp_path / "data", "--grace-period", "30")
    try:
        process.port()

        process.send(signal.SIGTERM)
        process.send(signal.SIGTERM)

        assert process.wait() == 0
    finally:
        process.stop()
