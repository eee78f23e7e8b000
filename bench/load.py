"""Load from a second process: Debian's wrk, its output parsed into throughput, latency
percentiles and errors."""

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.web import BenchError

LUA = Path(__file__).resolve().parent / "lua"
FORM = "Content-Type: application/x-www-form-urlencoded"
PERCENTILE = re.compile(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def ensure_wrk() -> None:
    """Installs Debian's wrk when it is not on PATH (as .ci/run installs chromium)."""
    if shutil.which("wrk"):
        return
    print("== installing Debian's wrk", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


@dataclass(frozen=True)
class Settings:
    threads: int
    connections: int
    duration: int  # seconds


@dataclass(frozen=True)
class Target:
    """What wrk requests: one URL, or the requests a Lua script makes."""

    path: str
    headers: tuple[str, ...] = ()
    script: str | None = None
    script_args: tuple[str, ...] = ()

    @classmethod
    def cycling(cls, method: str, requests: Path, headers: tuple[str, ...]) -> "Target":
        """Cycles through the requests in a file (see lua/cycle.lua)."""
        return cls("/", headers, "cycle.lua", (method, str(requests)))


@dataclass
class Measurement:
    requests: int
    requests_per_second: float
    latency_ms: dict[str, float]  # percentile ("50", "75", "90", "99") → ms
    non_2xx_3xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + sum(self.socket_errors.values())


def measure(base_url: str, target: Target, settings: Settings) -> Measurement:
    command = [
        "wrk",
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{settings.duration}s",
        "--timeout",
        "30s",
        "--latency",
    ]
    for header in target.headers:
        command += ["-H", header]
    if target.script:
        command += ["-s", str(LUA / target.script)]
    command.append(base_url + target.path)
    if target.script_args:
        command += ["--", *target.script_args]
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode or "requests in" not in finished.stdout:
        output = finished.stderr or finished.stdout
        raise BenchError(f"wrk failed ({finished.returncode}): {output}")
    return parse_wrk(finished.stdout)


def parse_wrk(output: str) -> Measurement:
    latency = {
        percent: _milliseconds(value, unit) for percent, value, unit in PERCENTILE.findall(output)
    }
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True))
        if errors
        else {}
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Measurement(
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        latency_ms=latency,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors={name: count for name, count in socket_errors.items() if count},
    )


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]
