"""The job worker: claims queued jobs from the database, solves them, stores the result.

A plan or evaluation job stores a plan (progress follows the solver's rounds); a sweep,
tornado or frontier job keeps its points on the job row (progress is points done / total).

Jobs survive restarts because they live in the database. A running job's worker writes a
heartbeat; a job whose heartbeat is older than ``job_stale_seconds`` was interrupted (crash,
kill, lost machine) and is queued again, or marked failed with the reason once it has used
``job_max_attempts``. Several workers, in one process or many, may share a database: a job is
claimed by a conditional UPDATE, so exactly one of them gets it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db.engine import transaction
from api.db.models import Job, utcnow
from api.problems import HttpProblem
from api.services import whatif
from api.services.plans import execute
from api.services.work import WHATIF_KINDS, Work
from api.settings import ServiceSettings

log = logging.getLogger("budgetopt.jobs")


class JobCancelled(Exception):
    """Raised from the progress callback to stop a solve whose job was cancelled."""


def recover_stale(factory: sessionmaker[Session], settings: ServiceSettings) -> int:
    """Requeue (or fail, after the last attempt) running jobs whose worker went silent."""
    cutoff = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    recovered = 0
    with transaction(factory) as session:
        stale = session.scalars(
            select(Job)
            .where(Job.status == "running", Job.heartbeat_at < cutoff)
            .with_for_update(skip_locked=True)
        ).all()
        for job in stale:
            recovered += 1
            reason = f"worker {job.worker} stopped responding (attempt {job.attempts})"
            if job.cancel_requested:
                job.status, job.finished_at, job.message = "cancelled", utcnow(), reason
            elif job.attempts >= job.max_attempts:
                job.status, job.finished_at = "failed", utcnow()
                job.error = f"interrupted {job.attempts} times; last: {reason}"
                job.message = "failed: interrupted"
            else:
                job.status, job.worker, job.progress = "queued", None, 0.0
                job.message = f"queued again: {reason}"
            log.warning("recovered interrupted job", extra={"job": job.id, "to": job.status})
    return recovered


def claim(factory: sessionmaker[Session], worker: str) -> Job | None:
    """Take the oldest queued job, or None; safe with many workers on one database."""
    with transaction(factory) as session:
        candidate = session.scalar(
            select(Job.id)
            .where(Job.status == "queued")
            .order_by(Job.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if candidate is None:
            return None
        now = utcnow()
        taken = session.execute(
            update(Job)
            .where(Job.id == candidate, Job.status == "queued")
            .values(
                status="running",
                attempts=Job.attempts + 1,
                worker=worker,
                started_at=now,
                heartbeat_at=now,
                message="running",
            )
        )
        if taken.rowcount != 1:
            return None
        return session.get(Job, candidate, populate_existing=True)


class Worker:
    """Worker threads that poll for jobs and run them, with a heartbeat per running job."""

    def __init__(self, factory: sessionmaker[Session], settings: ServiceSettings) -> None:
        self.factory = factory
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the configured number of worker threads."""
        for i in range(self.settings.workers):
            thread = threading.Thread(target=self.loop, name=f"job-worker-{i}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the threads to stop after their current round and wait a little for them."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        """True while every worker thread runs (readiness)."""
        return all(t.is_alive() for t in self.threads)

    def loop(self) -> None:
        """Poll: recover interrupted jobs, claim one, run it; sleep when there is none."""
        while not self.stopping.is_set():
            try:
                recover_stale(self.factory, self.settings)
                job = claim(self.factory, self.name)
            except Exception:  # database briefly away: log, wait, retry
                log.exception("job poll failed")
                job = None
            if job is None:
                self.stopping.wait(self.settings.job_poll_seconds)
                continue
            self.run(job)

    def run(self, job: Job) -> None:
        """Run one claimed job to its end: succeeded, failed or cancelled."""
        log.info("job started", extra={"job": job.id, "attempt": job.attempts})
        cancelled = threading.Event()
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job.id, done), daemon=True)
        beat.start()
        tolerance = job.request.get("options", {}).get("tolerance") or 1e-4

        def progress(round_no: int, gap: float | None) -> None:
            if self._progress(job.id, round_no, gap, tolerance):
                cancelled.set()
            if cancelled.is_set() or self.stopping.is_set():
                raise JobCancelled

        def point_progress(done: int, total: int) -> None:
            if self._point_progress(job.id, done, total):
                cancelled.set()
            if cancelled.is_set() or self.stopping.is_set():
                raise JobCancelled

        outcome: dict[str, Any]
        try:
            if job.kind in WHATIF_KINDS:
                # a what-if job stops between points; a crash-requeued one simply reruns
                data = whatif.execute(Work(**job.request), point_progress)
                outcome = {"message": whatif.summary(job.kind, data), "result": data}
            else:
                record = execute(self.factory, Work(**job.request), progress)
                outcome = {"message": f"{record.status} plan stored", "plan_id": record.id}
        except JobCancelled:
            reason = "cancelled" if cancelled.is_set() else "worker shutting down"
            self._finish(job.id, "cancelled" if cancelled.is_set() else "queued", reason)
        except HttpProblem as exc:
            self._finish(job.id, "failed", exc.detail, error=exc.detail)
        except Exception as exc:
            log.exception("job failed", extra={"job": job.id})
            self._finish(job.id, "failed", "failed", error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(job.id, "succeeded", **outcome)
        finally:
            done.set()
            beat.join()

    def _heartbeat(self, job_id: str, done: threading.Event) -> None:
        """Mark the job alive every third of the stale time until ``done``."""
        interval = max(self.settings.job_stale_seconds / 3, 0.05)
        while not done.wait(interval):
            try:
                with transaction(self.factory) as session:
                    session.execute(
                        update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow())
                    )
            except Exception:
                log.exception("heartbeat failed", extra={"job": job_id})

    def _progress(self, job_id: str, round_no: int, gap: float | None, tolerance: float) -> bool:
        """Record a round's progress; True when the job's cancellation was requested."""
        # Progress is how far the gap has closed towards the tolerance, on a log scale.
        fraction = 0.05
        if gap is not None:
            closed = math.log10(max(gap, 1e-12)) / math.log10(min(tolerance, 0.5))
            fraction = min(max(closed, 0.05), 0.99)
        with transaction(self.factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(
                    progress=fraction,
                    heartbeat_at=utcnow(),
                    message=f"round {round_no}, gap "
                    + ("unknown" if gap is None else f"{gap:.2e}"),
                )
            )
            return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))

    def _point_progress(self, job_id: str, done: int, total: int) -> bool:
        """Record a what-if job's points done; True when its cancellation was requested."""
        with transaction(self.factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(
                    progress=done / total if total else 1.0,
                    heartbeat_at=utcnow(),
                    message=f"point {done} of {total}",
                )
            )
            return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))

    def _finish(
        self,
        job_id: str,
        status: str,
        message: str,
        *,
        error: str | None = None,
        plan_id: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        with transaction(self.factory) as session:
            job = session.get(Job, job_id)
            if job is None:
                return
            job.status, job.message, job.error, job.plan_id = status, message, error, plan_id
            job.result = result
            if status == "queued":  # shut down mid-solve: the next worker starts it afresh
                job.attempts = max(job.attempts - 1, 0)
                job.worker, job.progress = None, 0.0
            else:
                job.finished_at = utcnow()
                job.progress = 1.0 if status == "succeeded" else job.progress
        log.info("job finished", extra={"job": job_id, "status": status})
