#!/usr/bin/env python3
"""What a large response costs a bare grpcio server: server CPU per call for a handler that
returns SIZE prepared bytes (no serialization, no interceptors), 32 calls in flight from a
grpc.aio client in another process for 5 seconds.

QueryAvailability's 7 x 5 answer is about 155 KB; comparing `0` with `155000` says how much
of a warm availability call is the response's size rather than the server's own work.

  python bench/response_size.py 0 155000
"""

from __future__ import annotations

import resource
import subprocess
import sys
from concurrent import futures

import grpc

SECONDS = 5
IN_FLIGHT = 32
_CLIENT = """
import asyncio, sys, time
import grpc

async def main() -> None:
    channel = grpc.aio.insecure_channel(
        sys.argv[1], options=[("grpc.max_receive_message_length", 64 << 20)]
    )
    call = channel.unary_unary("/bench.Size/Get")
    done = 0
    end = time.monotonic() + float(sys.argv[2])

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < end:
            await call(b"")
            done += 1

    await asyncio.gather(*(caller() for _ in range(int(sys.argv[3]))))
    print(done)

asyncio.run(main())
"""


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(size: int) -> tuple[float, float]:
    """(calls/s, server CPU µs per call) for responses of `size` bytes."""
    payload = b"x" * size
    server = grpc.server(futures.ThreadPoolExecutor(16))
    handler = grpc.unary_unary_rpc_method_handler(lambda _request, _context: payload)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("bench.Size", {"Get": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        before = _cpu_seconds()
        client = subprocess.run(
            [sys.executable, "-c", _CLIENT, f"127.0.0.1:{port}", str(SECONDS), str(IN_FLIGHT)],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu = _cpu_seconds() - before
    finally:
        server.stop(None)
    calls = int(client.stdout.strip())
    return calls / SECONDS, cpu / max(calls, 1) * 1e6


def main() -> None:
    for size in [int(arg) for arg in sys.argv[1:]] or [0, 155_000]:
        rate, cpu_us = measure(size)
        print(f"{size:>9} bytes: {rate:7.0f} calls/s, server CPU {cpu_us:5.0f} us/call")


if __name__ == "__main__":
    main()
