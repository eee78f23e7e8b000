"""`make run`, as a newcomer runs it: the app and the scheduler beside it, both stopped by
Ctrl-C (the terminal's SIGINT to the whole process group)."""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
# SIGINT as a terminal leaves it (a test run started in the background may ignore it), then
# make; a Python wrapper, as pytest's threads make a preexec_fn unsafe.
AS_FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def cannot_run(why: str) -> None:
    """A pytest run outside `make test` (another virtualenv) skips; CI, which runs `make test`
    and sets REQUIRE_MAKE_RUN, must run this test and fails instead."""
    if os.environ.get("REQUIRE_MAKE_RUN"):
        pytest.fail(f"REQUIRE_MAKE_RUN is set but this test cannot run: {why}")
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_serves_the_app_with_the_scheduler_and_ctrl_c_stops_both(tmp_path):
    stamp = VENV / ".run-deps"
    if shutil.which("make") is None or not stamp.exists():
        cannot_run("needs make and a virtualenv made by the Makefile (it would install)")
    if stamp.stat().st_mtime < (ROOT / "requirements.txt").stat().st_mtime:
        cannot_run("the virtualenv is older than requirements.txt: make run would install")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SECRET_KEY")
    }
    env.update(
        MEDIATION_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        SCHEDULER_ENABLED="true",
    )
    log_path = tmp_path / "make-run.log"
    with log_path.open("w") as log:
        make = subprocess.Popen(
            [sys.executable, "-c", AS_FROM_A_TERMINAL, "make", "run", f"PORT={port}"]
            + [f"VENV={VENV}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    group = make.pid
    try:
        deadline = time.monotonic() + 180
        while not (answers(port) and "outbox_dispatch" in log_path.read_text()):
            assert make.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        # -ww: without a terminal ps cuts each line at 80 columns, and a deep checkout's
        # paths push "scheduler" and "run" past it.
        ps = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-g", str(group)], capture_output=True, text=True
        ).stdout
        assert "flask scheduler" in ps and "flask run" in ps, ps
        assert "demo-region" in log_path.read_text()  # the demo logins, the regional one too

        os.killpg(group, signal.SIGINT)
        make.wait(timeout=60)
        deadline = time.monotonic() + 30
        while group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(group), subprocess.run(
            ["ps", "-ww", "-o", "pid,args", "-g", str(group)], capture_output=True, text=True
        ).stdout
        assert "调度进程已停止" in log_path.read_text()  # it stopped, not killed mid-run
        assert not answers(port)
    finally:
        if group_alive(group):
            os.killpg(group, signal.SIGKILL)
        make.wait(timeout=60)  # reaped here, not reported by a later test's warnings
