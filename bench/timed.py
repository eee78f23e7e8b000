"""The operations timed end to end: the month statistics and the deadline sweep in this process
(inside the app, as the page and the scheduler call them), the XLSX export and the ledger import
as the `flask` commands an operator runs, with their peak memory."""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.database import FLASK, ROOT
from bench.fixtures import demo_centre
from mediation.directory.centres import region_centres
from mediation.jobs.runner import SHELL, run_job
from mediation.stats.queries import month_stats, region_stats


@dataclass
class Timing:
    seconds: float
    rows: int | None = None
    peak_rss_mb: float | None = None

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows else None


def time_month_stats(month: str, runs: int = 3) -> Timing:
    """The median of `runs` computations: the first also pays for warming the database's
    pages and compiling the statements, which a page asked for again does not."""
    centre = demo_centre()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        month_stats(month, centre)
        seconds.append(time.perf_counter() - started)
    return Timing(sorted(seconds)[runs // 2])


def time_region_stats(month: str, region: str, runs: int = 3) -> tuple[int, Timing]:
    """The region's month statistics (SPEC 10: each centre's figures and the region's, as the
    regional administrator's page asks for them), the median of `runs`; and how many centres."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        region_stats(month, region)
        seconds.append(time.perf_counter() - started)
    return len(region_centres(region)), Timing(sorted(seconds)[runs // 2])


def time_deadline_sweep(runs: int = 1) -> Timing:
    """The deadline sweep as `flask jobs run` starts it (rows = cases it handled); with
    `runs`, the median run: right after a sweep that changed many cases, the next one still
    steps over their old index entries once."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run = run_job("deadline_sweep", SHELL)
        seconds = time.perf_counter() - started
        if run is None or run.skipped or run.status != "ok":
            raise RuntimeError(f"deadline sweep did not run cleanly: {run and run.error}")
        timings.append(Timing(seconds, run.rows))
    return sorted(timings, key=lambda timing: timing.seconds)[runs // 2]


def time_command(env: dict, log: Path, *args: str) -> Timing:
    """A `flask` command in a process of its own: wall time and peak resident memory (output
    to `log`)."""
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [FLASK, *args], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"flask {' '.join(args)} failed ({process.returncode}):\n{tail}")
    return Timing(seconds, peak_rss_mb=usage.ru_maxrss / 1024)
