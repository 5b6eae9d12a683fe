"""Background jobs in the server: expire grants and stale requests, warn holders before grants end, put
scheduled directives into force, keep directive progress messages current, seal audit events into the
chain and post the daily audit checkpoint. With several servers, each tick of a job runs once: the process
that records the tick first runs it (bot/scheduler_ticks.py), the others skip it. The jobs would be safe
run twice anyway: each claims its rows with SKIP LOCKED (PostgreSQL) or runs under SQLite's single
writer, and the audit jobs take turns on the chain's head row."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot import metrics, scheduler_ticks
from bot.logs import log_fields
from bot.services import (
    approvals,
    audit_chain,
    delegations,
    directives,
    extensions,
    grants,
    licences,
    recheck,
    replays,
    requests,
)
from bot.services.context import Context

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 2.0  # seconds between updates of an admin's directive progress message
REPLAY_SWEEP = 60.0  # seconds between sweeps of replay keys whose requests can no longer verify
# Seconds between re-checks of every grant against the entitlement rule. Every change to its inputs
# re-checks at once; this is the safety net (and, at start, applies the workflows just loaded).
RECHECK_INTERVAL = 60.0
# Seconds between runs of the audit sealer (events wait about this long to join the chain), and between
# looks at whether today's audit checkpoint has been recorded.
SEAL_INTERVAL = 5.0
CHECKPOINT_INTERVAL = 60.0
RUNS_SWEEP = 3600.0  # seconds between sweeps of the scheduler's records of old runs


@dataclass
class Job:
    name: str
    run: Callable[[], int]
    interval: float
    due: float = 0.0
    # Run the first tick in this process whether or not another replica has run it: the re-check's
    # first run applies the workflows this process loaded.
    own_first_tick: bool = False


def default_jobs(ctx: Context, interval: float) -> list[Job]:
    return [
        Job("activate directives", lambda: directives.activate_due(ctx), interval),
        Job("expire grants", lambda: grants.expire_due_grants(ctx), interval),
        Job("warn of expiring grants", lambda: extensions.warn_expiring(ctx), interval),
        Job("expire requests", lambda: requests.expire_stale_requests(ctx), interval),
        Job("reroute stranded steps", lambda: approvals.reroute_stranded(ctx), interval),
        Job("remind and escalate waiting steps", lambda: approvals.remind_and_escalate(ctx), interval),
        Job("end delegations", lambda: delegations.close_ended(ctx), interval),
        Job("directive progress", lambda: directives.refresh_progress(ctx), min(interval, PROGRESS_INTERVAL)),
        Job("forget old replay keys", lambda: replays.forget_expired(ctx), max(interval, REPLAY_SWEEP)),
        # Licences lapse before the timer's re-check: a grant that depended on a licence past its last day
        # is suspended by the lapse, which records that access stopped at the start of the next day (the
        # re-check, finding the licence no longer in effect, would suspend it as of now).
        Job("lapse licences", lambda: licences.lapse_licences(ctx), max(interval, RECHECK_INTERVAL)),
        Job("re-check entitlements", _recheck(ctx), max(interval, RECHECK_INTERVAL), own_first_tick=True),
        Job("warn of lapsing licences", lambda: licences.warn_lapsing(ctx), max(interval, RECHECK_INTERVAL)),
        Job("seal audit events", lambda: audit_chain.seal_job(ctx), min(interval, SEAL_INTERVAL)),
        Job(
            "daily audit checkpoint",
            lambda: audit_chain.daily_checkpoint(ctx),
            max(interval, CHECKPOINT_INTERVAL),
        ),
        Job("forget old scheduler runs", _forget_runs(ctx), max(interval, RUNS_SWEEP)),
    ]


def _forget_runs(ctx: Context) -> Callable[[], int]:
    return lambda: scheduler_ticks.forget_old_runs(ctx)


def _recheck(ctx: Context) -> Callable[[], int]:
    """The re-check job: its first run, at start, is the one that applies workflows just loaded (a model
    suspended or made `us_persons_only`); later runs are the timer's."""
    runs = 0

    def run() -> int:
        nonlocal runs
        runs += 1
        return recheck.run_recheck(ctx, trigger="workflows loaded" if runs == 1 else "timer")

    return run


def _observed(job: Job) -> Job:
    """The job, its runs counted and timed in the metrics (by outcome) and its log lines tagged `job`."""
    run = job.run

    def observed() -> int:
        started = time.perf_counter()
        outcome = "failed"
        try:
            with log_fields(job=job.name):
                count = run()
            outcome = "ok"
            metrics.JOB_LAST_SUCCESS.labels(job.name).set_to_current_time()
            return count
        finally:
            metrics.JOB_RUNS.labels(job.name, outcome).inc()
            metrics.JOB_SECONDS.labels(job.name).observe(time.perf_counter() - started)

    return replace(job, run=observed)


class Scheduler:
    """Runs `jobs` on their intervals in a thread of its own, each run counted and timed in the metrics.
    `claim(jobs)`, when given, names those of the due `jobs` whose current tick this process runs (the
    others: another replica does; bot/scheduler_ticks.py)."""

    def __init__(self, jobs: list[Job], claim: Callable[[list[Job]], set[str]] | None = None):
        self.jobs = [_observed(job) for job in jobs]
        self.claim = claim
        self._ran: set[str] = set()  # jobs this process has run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def run_due(self, *, force: bool = False) -> dict[str, int]:
        """Run the jobs whose interval has passed and whose tick this process claims (every job, without
        claiming, with `force`); returns job name -> how many things it did. A failing job is logged and
        runs again at its next interval."""
        started = time.monotonic()
        due = [job for job in self.jobs if force or started >= job.due]
        for job in due:
            job.due = started + job.interval
        takes = {job.name for job in due} if force else self._takes_ticks(due)
        done = {}
        for job in due:
            if job.name not in takes:
                continue
            try:
                self._ran.add(job.name)
                count = job.run()
                done[job.name] = count
                if count:
                    log.info("%s: %d", job.name, count, extra={"job": job.name})
            except Exception:
                log.exception("scheduled job %r failed; it will run again", job.name, extra={"job": job.name})
        return done

    def _takes_ticks(self, jobs: list[Job]) -> set[str]:
        """The names of `jobs` whose current tick this process runs: those it claims (claims are recorded
        even for a tick this process would run anyway), and a job's first tick in this process when the
        job asks for it. None of them when claiming fails (they run again at their next interval)."""
        if not jobs or self.claim is None:
            return {job.name for job in jobs}
        try:
            claimed = self.claim(jobs)
        except Exception:
            log.exception("claiming the scheduled jobs' ticks failed; they will run again")
            return set()
        return claimed | {job.name for job in jobs if job.own_first_tick and job.name not in self._ran}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            wait = min(job.due for job in self.jobs) - time.monotonic()
            self._stop.wait(max(0.01, wait))
