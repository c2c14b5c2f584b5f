"""Stored backtest results: each run kept; the auto-voting gate reads the latest match."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, func, select

from agent.models import utc
from agent.store import schema

_B = schema.backtests


class BacktestRecord(BaseModel):
    """A backtest's identity and headline figures (the full report is in `data`)."""

    id: int
    voter: str
    space: str | None
    analyst: str
    prompt_hash: str
    policy_id: str
    policy_hash: str
    n: int
    coverage: float | None
    agreement: float | None
    kappa: float | None
    created: datetime
    data: dict[str, Any]


class BacktestLog:
    """Mixed into RecordStore; needs `self.engine`."""

    engine: Engine

    def save_backtest(self, row: dict[str, Any], data: dict[str, Any], created: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                _B.insert().values(**row, created_ts=int(created.timestamp()), data=data)
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def latest_backtest(
        self,
        *,
        analyst: str,
        prompt_hash: str,
        policy_hash: str,
        voter: str | None = None,
    ) -> BacktestRecord | None:
        """The newest backtest of exactly this analyst, prompt and policy (against `voter`)."""
        query = select(_B).where(
            _B.c.analyst == analyst,
            _B.c.prompt_hash == prompt_hash,
            _B.c.policy_hash == policy_hash,
        )
        if voter:
            query = query.where(func.lower(_B.c.voter) == voter.lower())
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(_B.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return BacktestRecord(
            id=row.id,
            voter=row.voter,
            space=row.space,
            analyst=row.analyst,
            prompt_hash=row.prompt_hash,
            policy_id=row.policy_id,
            policy_hash=row.policy_hash,
            n=row.n,
            coverage=row.coverage,
            agreement=row.agreement,
            kappa=row.kappa,
            created=utc(row.created_ts),
            data=row.data,
        )
