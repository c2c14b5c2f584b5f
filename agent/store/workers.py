"""The worker registry and the deployment's identity, in the record store.

Each `steward run` in cluster mode registers itself (id, host, pid, started) and
says it is alive every few seconds (`last_seen`, on the database's clock); one that
stops saying so is gone. The first worker stores the deployment's name; a worker of
another deployment pointed at the same database by mistake is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.errors import ConfigError
from agent.store.cluster_tables import meta, workers
from agent.store.leases import Clock, db_now


class WrongDeployment(ConfigError):
    """The database belongs to another deployment."""


class DuplicateWorker(ConfigError):
    """Another live worker has this worker's id."""


@dataclass(frozen=True)
class WorkerRow:
    id: str
    deployment: str
    host: str
    pid: int
    started_at: float
    last_seen: float
    stopped_at: float | None


class WorkerRegistry:
    def __init__(self, engine: Engine, *, clock: Clock = db_now) -> None:
        self.engine = engine
        self.clock = clock

    def join(self, deployment: str) -> None:
        """Record `deployment` as this database's, or WrongDeployment if it has another."""
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(meta).values(key="deployment", value=deployment))
                return
            except IntegrityError:
                pass
            stored = conn.execute(
                select(meta.c.value).where(meta.c.key == "deployment")
            ).scalar_one()
        if stored != deployment:
            raise WrongDeployment(
                f"this database belongs to deployment {stored!r}, not {deployment!r}: "
                "point database.url at this deployment's own database, or set "
                f"cluster.deployment to {stored!r} if this worker is one of its workers"
            )

    def register(
        self, worker_id: str, deployment: str, host: str, pid: int, *, alive_s: float = 0.0
    ) -> None:
        """Record this worker. DuplicateWorker if another process registered under the same
        id within `alive_s` and has not stopped: two holders of one id would share leases."""
        with self.engine.begin() as conn:
            now = self.clock(conn)
            other = conn.execute(select(workers).where(workers.c.id == worker_id)).first()
            if (
                other is not None
                and other.stopped_at is None
                and (other.host, other.pid) != (host, pid)
                and now - other.last_seen < alive_s
            ):
                raise DuplicateWorker(
                    f"worker id {worker_id!r} is in use by pid {other.pid} on {other.host}: "
                    "give each worker its own cluster.worker_id (or leave it unset)"
                )
            values = {
                "deployment": deployment,
                "host": host,
                "pid": pid,
                "started_at": now,
                "last_seen": now,
                "stopped_at": None,
            }
            changed = conn.execute(
                update(workers).where(workers.c.id == worker_id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(insert(workers).values(id=worker_id, **values))

    def seen(self, worker_id: str) -> None:
        with self.engine.begin() as conn:
            now = self.clock(conn)
            conn.execute(update(workers).where(workers.c.id == worker_id).values(last_seen=now))

    def stopped(self, worker_id: str) -> None:
        with self.engine.begin() as conn:
            now = self.clock(conn)
            conn.execute(
                update(workers)
                .where(workers.c.id == worker_id)
                .values(last_seen=now, stopped_at=now)
            )

    def all(self) -> list[WorkerRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(workers).order_by(workers.c.started_at))
            return [WorkerRow(**r._mapping) for r in rows]

    def deployment(self) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == "deployment"))
            return value.scalar_one_or_none()
