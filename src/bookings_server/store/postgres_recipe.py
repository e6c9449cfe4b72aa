"""PostgreSQL connections whose every wait is bounded by the transaction's deadline.

- Connecting: `connect_timeout` from the deadline (libpq's minimum is 2 s; at most
  `CONNECT_TIMEOUT_S`), TCP keepalives and `tcp_user_timeout`, so a vanished host is noticed
  in seconds rather than after the kernel's two hours.
- Each transaction first sets its own `statement_timeout` (what is left of the deadline) and
  `lock_timeout` (`SET LOCAL`, through `set_config(..., true)`). That statement is also the
  pool's liveness check: a pooled connection the server dropped (a restart) fails it at once
  and the transaction starts over, once, on a new connection, as `pool_pre_ping` would have
  done, without a round trip of its own.
- A server that does not answer at all (SIGSTOP, a partition) cancels nothing, so the
  watchdog (store/watchdog.py) cuts the connection `WATCHDOG_SLACK_S` after the deadline.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, exc, text
from sqlalchemy.orm import Session

from bookings_server.domain.deadline import Deadline, current_deadline, earliest
from bookings_server.store.watchdog import Alarm, Watchdog

CONNECT_TIMEOUT_S = 10
#: libpq rounds any shorter connect_timeout up to this.
MIN_CONNECT_TIMEOUT_S = 2
#: TCP settings of every connection (libpq parameters); a URL's own values win.
TCP_SETTINGS = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "3",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
}
#: The watchdog cuts a connection this long after its deadline: time for the server's own
#: statement_timeout to answer first while the server runs.
WATCHDOG_SLACK_S = 0.5

#: The largest timeout PostgreSQL accepts (an int of milliseconds).
_MAX_TIMEOUT_MS = 2**31 - 1
_SET_TIMEOUTS = text(
    "SELECT set_config('statement_timeout', :statement_ms, true), "
    "set_config('lock_timeout', :lock_ms, true)"
)


def install_postgres_recipe(engine: Engine, max_transaction_s: float | None) -> None:
    """Connect with TCP keepalives and a connect timeout from the current deadline."""

    @event.listens_for(engine, "do_connect")
    def _bounded_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        for name, value in TCP_SETTINGS.items():
            params.setdefault(name, value)
        deadline = earliest(current_deadline.get(), max_transaction_s)
        params["connect_timeout"] = str(connect_timeout_s(deadline))


def connect_timeout_s(deadline: Deadline | None) -> int:
    """Whole seconds to wait for a new connection: what is left of `deadline`, within limits."""
    if deadline is None:
        return CONNECT_TIMEOUT_S
    return min(CONNECT_TIMEOUT_S, max(MIN_CONNECT_TIMEOUT_S, int(deadline.remaining())))


class Cutoff:
    """The watchdog alarm of one transaction, if it has a deadline."""

    def __init__(self, watchdog: Watchdog, deadline: Deadline | None) -> None:
        self._watchdog = watchdog
        self._deadline = deadline
        self._alarm: Alarm | None = None

    @property
    def rang(self) -> bool:
        """True when the watchdog cut the connection: the database did not answer in time."""
        return self._alarm is not None and self._alarm.rang

    def arm(self, session: Session) -> None:
        if self._deadline is None:
            return
        dbapi_connection = session.connection().connection.dbapi_connection
        fd: int = dbapi_connection.pgconn.socket  # type: ignore[union-attr]
        self._alarm = self._watchdog.arm(self._deadline.at + WATCHDOG_SLACK_S, fd)

    def disarm(self) -> None:
        if self._alarm is not None:
            self._alarm.disarm()


def begin(
    session: Session, cutoff: Cutoff, deadline: Deadline | None, lock_timeout_ms: int
) -> None:
    """Start the session's transaction on a live connection, with its timeouts set."""
    timeouts = transaction_timeouts(deadline, lock_timeout_ms)
    for attempt in range(2):
        cutoff.arm(session)
        try:
            session.execute(_SET_TIMEOUTS, timeouts)
            return
        except exc.DBAPIError as error:
            cutoff.disarm()
            if attempt or cutoff.rang or not error.connection_invalidated:
                raise
            session.rollback()  # a stale pooled connection: start over on a fresh one


def transaction_timeouts(deadline: Deadline | None, lock_timeout_ms: int) -> dict[str, str]:
    """`statement_timeout` and `lock_timeout` in milliseconds (0 would mean "no limit")."""
    if deadline is None:
        return {"statement_ms": "0", "lock_ms": str(lock_timeout_ms)}
    statement_ms = min(_MAX_TIMEOUT_MS, max(1, int(deadline.remaining() * 1000)))
    return {"statement_ms": str(statement_ms), "lock_ms": str(min(lock_timeout_ms, statement_ms))}
