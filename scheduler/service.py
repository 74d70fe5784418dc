"""The scheduler process: one leader (advisory lock) runs APScheduler on a PostgreSQL store."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import psycopg
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import Counter, Gauge
from psycopg.conninfo import conninfo_to_dict

import scheduler as scheduler_pkg
from config.policy import Policies, load_policies
from config.settings import Settings
from scheduler.context import JobContext, set_context
from storage import leader
from storage.pool import make_pool, ping

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x5AFE_0002

LEADER = Gauge("safewatch_scheduler_leader", "1 while this process holds the scheduler lock")
JOB_RUNS = Counter(
    "safewatch_scheduler_job_runs_total", "Job runs by job and outcome", ["job", "outcome"]
)


def _count_run(event: JobEvent) -> None:
    """APScheduler listener: one sample per run (its per-run INFO lines are off by default)."""
    if event.code == EVENT_JOB_MISSED:
        outcome = "missed"
    else:
        outcome = "error" if getattr(event, "exception", None) is not None else "ok"
    JOB_RUNS.labels(job=event.job_id, outcome=outcome).inc()


def sqlalchemy_url(database_url: str) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) for a libpq URL or DSN."""
    params = conninfo_to_dict(database_url)
    from sqlalchemy.engine import URL  # local: only the scheduler needs SQLAlchemy

    query = {
        k: str(v)
        for k, v in params.items()
        if k not in {"user", "password", "host", "port", "dbname"} and v is not None
    }
    host = str(params["host"]) if params.get("host") else None
    if host is not None and host.startswith("/"):  # a Unix socket directory goes in the query
        query["host"] = host
        host = None
    return URL.create(
        "postgresql+psycopg",
        username=str(params.get("user") or "postgres"),
        password=str(params["password"]) if params.get("password") else None,
        host=host,
        port=int(str(params["port"])) if params.get("port") else None,
        database=str(params.get("dbname") or "postgres"),
        query=query,
    ).render_as_string(hide_password=False)


def build_scheduler(settings: Settings) -> AsyncIOScheduler:
    """An AsyncIOScheduler in the bureau's zone with the PostgreSQL job store and all jobs."""
    sched = AsyncIOScheduler(
        timezone=settings.tz,
        jobstores={
            "default": SQLAlchemyJobStore(
                url=sqlalchemy_url(settings.database_url), tablename="apscheduler_jobs"
            )
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    sched.add_listener(_count_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return sched


def register_jobs(sched: Any) -> list[str]:
    """Call register(sched) in every scheduler/jobs_*.py module; return their names."""
    names = []
    for info in sorted(pkgutil.iter_modules(scheduler_pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("jobs_"):
            module = importlib.import_module(f"scheduler.{info.name}")
            module.register(sched)
            names.append(info.name)
    return names


@dataclass
class LeaderSignals:
    """What a caller (a test, a probe) can wait on instead of sleeping: this process became
    leader, found the lock held by another, or stepped down."""

    leading: asyncio.Event = field(default_factory=asyncio.Event)
    refused: asyncio.Event = field(default_factory=asyncio.Event)
    stepped_down: asyncio.Event = field(default_factory=asyncio.Event)


async def hold_leadership(
    url: str, stop: asyncio.Event, poll_s: float = 0.5, signals: LeaderSignals | None = None
) -> psycopg.AsyncConnection[Any] | None:
    """Wait until this process holds the leader lock; return the connection that holds it."""
    while not stop.is_set():
        try:
            conn = await leader.connect(url)
            while not stop.is_set():
                if await leader.try_lock(conn, key=LEADER_LOCK_KEY):
                    return conn
                if signals is not None:
                    signals.refused.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_s)
            await conn.close()
        except psycopg.OperationalError as exc:
            log.warning("scheduler leader lock: database unavailable (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
    return None


async def run_scheduler(
    settings: Settings,
    stop: asyncio.Event,
    *,
    ctx: JobContext | None = None,
    policies: Policies | None = None,
    signals: LeaderSignals | None = None,
) -> None:
    """Run until `stop`: become leader, run the jobs; step down if the lock is lost. The jobs
    see `policies` (from the composition root; read from settings.policy_dir when not given)."""
    own_pool = ctx is None
    if ctx is None:
        pool = make_pool(settings.database_url, min_size=1, max_size=4)
        await pool.open(wait=True, timeout=30)
        ctx = JobContext(
            settings=settings,
            pool=pool,
            policies=policies or load_policies(settings.policy_dir),
        )
    set_context(ctx)
    try:
        while not stop.is_set():
            lock_conn = await hold_leadership(settings.database_url, stop, signals=signals)
            if lock_conn is None:
                break
            log.info("scheduler: this process is the leader")
            sched = build_scheduler(settings)
            await asyncio.to_thread(register_jobs, sched)
            sched.start()
            LEADER.set(1)
            if signals is not None:
                signals.stepped_down.clear()
                signals.leading.set()
            try:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 5)
                    try:
                        await ping(lock_conn)
                    except psycopg.Error:
                        log.error("scheduler: lost the leader connection; stepping down")
                        break
            finally:
                LEADER.set(0)
                if signals is not None:
                    signals.leading.clear()
                    signals.stepped_down.set()
                sched.shutdown(wait=False)
                with contextlib.suppress(psycopg.Error):
                    await lock_conn.close()
    finally:
        set_context(None)
        if own_pool:
            await ctx.pool.close()
        log.info("scheduler stopped")
