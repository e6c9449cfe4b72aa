"""Load for the database fault tests: client threads creating and confirming bookings against
real `bookings serve` processes while the database fails, and what they were told.

Every answer is recorded with its code, ErrorInfo reason and duration. Afterwards the tests
check the answers (no UNKNOWN or INTERNAL; failures are the precise, retryable statuses) and
the rows: nothing acknowledged lost, nothing overbooked, no request_id stored twice, and
nothing stored for a create the server answered with a definite failure (only
COMMIT_UNCONFIRMED, or a client-side deadline, leaves the outcome open).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
from bookings.v1 import bookings_service_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from fault.fault_support import harness
from fault.test_fault_crash import Ledger, retry_unacknowledged_creates, verify

#: Answers a failing database may give: precise and retryable (or a refusal for lack of room).
ALLOWED_FAILURES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
#: Failure reasons after which the server guarantees nothing was written.
DEFINITE_FAILURES = frozenset(
    {"STORE_FULL", "STORE_OVERLOADED", "STORE_BUSY", "STORE_UNAVAILABLE", "DEADLINE_EXCEEDED"}
)


@dataclass(frozen=True)
class Answer:
    method: str
    code: str
    reason: str
    seconds: float
    at: float


@dataclass
class FaultLedger(Ledger):
    """The crash test's ledger, plus every answer and the creates that definitely failed."""

    answers: list[Answer] = field(default_factory=list)
    #: request_ids of creates answered with a failure in DEFINITE_FAILURES
    not_written: set[str] = field(default_factory=set)

    def failures(self, *, since: float = 0.0, until: float = float("inf")) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.code != "OK" and since <= a.at < until]

    def unexpected(self) -> list[Answer]:
        allowed = {code.name for code in ALLOWED_FAILURES} | {"OK"}
        with self.lock:
            return [a for a in self.answers if a.code not in allowed]

    def reasons(self) -> Counter[str]:
        """ "CODE REASON" -> how many answers."""
        with self.lock:
            return Counter(f"{a.code} {a.reason}".strip() for a in self.answers if a.code != "OK")

    def last_ok(self) -> float:
        with self.lock:
            return max((a.at for a in self.answers if a.code == "OK"), default=0.0)


def reason_of(error: grpc.RpcError) -> str:
    """The ErrorInfo reason of a failed call ("" when the server sent none)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return ""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


class _Client:
    """One load thread's view: a stub, and the ledger it reports to."""

    def __init__(self, api: harness.Stubs, ledger: FaultLedger, timeout: float) -> None:
        self.api = api
        self.ledger = ledger
        self.timeout = timeout

    def call(self, method: str, request: object) -> tuple[object | None, Answer]:
        """The reply (None when the call failed) and the recorded answer."""
        started = time.monotonic()
        try:
            reply = getattr(self.api.bookings, method)(
                request, metadata=self.api.metadata, timeout=self.timeout
            )
        except grpc.RpcError as error:
            return None, self._record(method, error.code().name, reason_of(error), started)
        return reply, self._record(method, "OK", "", started)

    def _record(self, method: str, code: str, reason: str, started: float) -> Answer:
        now = time.monotonic()
        answer = Answer(method, code, reason, now - started, now)
        with self.ledger.lock:
            self.ledger.answers.append(answer)
        return answer


def _load(
    address: str,
    metadata: harness.Metadata,
    catalog: harness.Catalog,
    ledger: FaultLedger,
    stop: threading.Event,
    timeout: float,
) -> None:
    rng = random.Random()
    with harness.stubs(address, metadata) as api:
        client = _Client(api, ledger, timeout)
        while not stop.is_set():
            request_id = f"dbfault-{uuid.uuid4().hex}"
            request = harness.create_booking_request(
                rng.choice(catalog.session_ids),
                catalog.class_service_id,
                request_id,
                participants=rng.randint(1, 2),
            )
            with ledger.lock:
                ledger.sent += 1
                ledger.requests[request_id] = request
            reply, answer = client.call("CreateBooking", request)
            if reply is None:
                _note_failed_create(ledger, request_id, answer)
                time.sleep(0.01)  # a client backs off a little before it retries
                continue
            booking_id = reply.booking.id  # type: ignore[attr-defined]
            with ledger.lock:
                ledger.created[request_id] = booking_id
            confirmed, _ = client.call(
                "ConfirmOrDeclineBooking",
                bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking_id),
            )
            if confirmed is not None:
                status = confirmed.booking.status  # type: ignore[attr-defined]
                with ledger.lock:
                    ledger.decided[booking_id] = status


def _note_failed_create(ledger: FaultLedger, request_id: str, answer: Answer) -> None:
    with ledger.lock:
        if answer.code == "FAILED_PRECONDITION":
            ledger.refused.add(request_id)  # no room: nothing may be stored for it
        elif answer.reason in DEFINITE_FAILURES:
            ledger.not_written.add(request_id)


@contextmanager
def load_running(
    addresses: Sequence[str],
    metadata: harness.Metadata,
    catalog: harness.Catalog,
    ledger: FaultLedger,
    *,
    threads_per_server: int,
    timeout: float,
) -> Iterator[None]:
    """Client threads (create + confirm) against every server while the block runs."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def run(address: str) -> None:
        try:
            _load(address, metadata, catalog, ledger, stop, timeout)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    workers = [
        threading.Thread(target=run, args=(address,), daemon=True)
        for address in addresses
        for _ in range(threads_per_server)
    ]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout + 10)
    assert not errors, f"a load thread failed: {errors[0]!r}"


#: Answers that show the store working again (a full session's refusal included).
WORKING = frozenset({"OK", "FAILED_PRECONDITION"})


def wait_for_ok(ledger: FaultLedger, after: float, timeout: float) -> float:
    """Seconds from `after` to the first answer of a working store the load got after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ledger.lock:
            first = min(
                (a.at for a in ledger.answers if a.code in WORKING and a.at > after),
                default=None,
            )
        if first is not None:
            return first - after
        time.sleep(0.02)
    raise AssertionError(f"no call succeeded within {timeout} s; failures: {ledger.reasons()}")


def check_answers(ledger: FaultLedger, counts: Counter[str], test: str) -> None:
    """No UNKNOWN, INTERNAL or other surprise; count what was answered."""
    unexpected = ledger.unexpected()
    assert not unexpected, f"unexpected answers: {Counter(a.code for a in unexpected)}"
    for reason, number in ledger.reasons().items():
        counts[f"{test}: {reason}"] += number
    counts["database fault calls answered"] += len(ledger.answers)


def median_seconds(answers: Sequence[Answer]) -> float:
    return statistics.median(a.seconds for a in answers) if answers else 0.0


def verify_rows(
    api: harness.Stubs, catalog: harness.Catalog, ledger: FaultLedger, counts: Counter[str]
) -> None:
    """0 lost, 0 overbooked, 0 duplicates, nothing stored for a definite failure."""
    stored = {b.external_user_id for b in harness.all_bookings(api)}
    written_anyway = ledger.not_written & stored
    assert not written_anyway, f"definite failures stored anyway: {sorted(written_anyway)[:3]}"
    retry_unacknowledged_creates(api, ledger)
    crash_counts: Counter[str] = Counter()
    verify(api, catalog, ledger, crash_counts)
    counts["bookings verified after database faults"] += len(ledger.created)
    counts["decisions verified after database faults"] += len(ledger.decided)
    counts["definite failures verified unwritten"] += len(ledger.not_written)


def by_reason(answers: Sequence[Answer]) -> dict[str, list[Answer]]:
    grouped: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        grouped[f"{answer.code} {answer.reason}".strip()].append(answer)
    return grouped
