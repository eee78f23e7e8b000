"""The results: judged against the targets of issue #8, printed as tables and kept as JSON."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.load import Measurement
from bench.timed import Timing

# p99 of a read page under load may be at most this many times its median.
TAIL_FACTOR = 10
# A deep or filtered list page may be at most this many times slower than the first page.
LIST_PAGE_FACTOR = 2
WORKER_RSS_MB = 200


def verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: ""}[passed]


@dataclass
class PageLine:
    """A page under load: throughput relative to the baseline's, latency, errors."""

    key: str
    label: str
    measurement: Measurement
    ratio: float
    target: str = ""
    problems: list[str] = field(default_factory=list)
    judged: bool = False

    @property
    def passed(self) -> bool | None:
        if self.problems:
            return False
        return True if self.judged else None

    def require(self, condition: bool, target: str, problem: str) -> None:
        self.judged = True
        self.target = f"{self.target}; {target}" if self.target else target
        if not condition:
            self.problems.append(problem)


def judge_page(
    line: PageLine, min_ratio: float | None, is_read: bool, first_page: PageLine | None
) -> None:
    m = line.measurement
    if m.errors:
        line.problems.append(f"{m.non_2xx_3xx} non-2xx/3xx, socket errors {m.socket_errors}")
    if min_ratio is not None:
        line.require(line.ratio >= min_ratio, f"≥ {min_ratio:.2f}", f"ratio {line.ratio:.2f}")
    if first_page is not None:
        slower = first_page.measurement.requests_per_second / m.requests_per_second
        line.require(
            slower <= LIST_PAGE_FACTOR,
            f"≤ {LIST_PAGE_FACTOR}× first page",
            f"{slower:.1f}× slower than the first page",
        )
    if is_read:
        p50, p99 = m.latency_ms["50"], m.latency_ms["99"]
        line.require(
            p99 <= TAIL_FACTOR * p50, f"p99 ≤ {TAIL_FACTOR}×p50", f"p99 is {p99 / p50:.1f}×p50"
        )


@dataclass
class TimedLine:
    key: str
    label: str
    timing: Timing
    target: str = ""
    passed: bool | None = None


@dataclass
class Check:
    """A condition that is not a figure: e.g. no duplicate case numbers."""

    label: str
    detail: str
    passed: bool


@dataclass
class Report:
    settings: dict
    pages: list[PageLine] = field(default_factory=list)
    timed: list[TimedLine] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    worker_rss_mb: float | None = None
    baseline_windows: list[float] = field(default_factory=list)  # req/s, in order

    @property
    def passed(self) -> bool:
        verdicts = [line.passed for line in (*self.pages, *self.timed)]
        verdicts += [check.passed for check in self.checks]
        return all(v is not False for v in verdicts)

    def failures(self) -> list[str]:
        failed = [f"{p.label}: {', '.join(p.problems)}" for p in self.pages if p.problems]
        failed += [f"{t.label}: {t.target} not met" for t in self.timed if t.passed is False]
        return failed + [f"{c.label}: {c.detail}" for c in self.checks if not c.passed]

    def print(self) -> None:
        print()
        print(_settings_line(self.settings))
        print()
        _print_table(
            ("page under load", "req/s", "p50 ms", "p90 ms", "p99 ms", "ratio", "target", ""),
            [_page_row(line) for line in self.pages],
        )
        if self.baseline_windows:
            low, high = min(self.baseline_windows), max(self.baseline_windows)
            print(
                f"baseline: {len(self.baseline_windows)} windows, one before each page and one "
                f"after the last, {low:.0f}–{high:.0f} req/s (shown: the median); each page's "
                "ratio is to the two around it"
            )
        print()
        _print_table(
            ("timed operation", "seconds", "rows", "rows/s", "peak MB", "target", ""),
            [_timed_row(line) for line in self.timed],
        )
        print()
        _print_table(
            ("check", "result", ""),
            [(c.label, c.detail, verdict(c.passed)) for c in self.checks],
        )
        print()
        for failure in self.failures():
            print(f"FAIL  {failure}")
        print("ALL TARGETS MET" if self.passed else "SOME TARGETS MISSED")

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "settings": self.settings,
            "pages": [{**asdict(p), "passed": p.passed} for p in self.pages],
            "timed": [
                {**asdict(t), "rows_per_second": t.timing.rows_per_second} for t in self.timed
            ],
            "checks": [asdict(c) for c in self.checks],
            "worker_rss_mb": self.worker_rss_mb,
            "baseline_windows": self.baseline_windows,
            "passed": self.passed,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _settings_line(settings: dict) -> str:
    region = ""
    if settings.get("centres", 1) > 1:  # a base worked on in place (undo.py)
        region = (
            f" across {settings['centres']} centres (the base itself, "
            f"{settings['database_size']} on disk, {settings['base_rows']:,} rows)"
        )
    return (
        f"{settings['engine']}, {settings['cases']} cases{region}, gunicorn "
        f"{settings['workers']} workers, wrk -t{settings['threads']} -c{settings['connections']} "
        f"-d{settings['duration']}s, {settings['started']}"
    )


def _page_row(line: PageLine) -> tuple:
    m = line.measurement
    return (
        line.label,
        f"{m.requests_per_second:.1f}",
        *(f"{m.latency_ms[p]:.1f}" for p in ("50", "90", "99")),
        f"{line.ratio:.2f}",
        line.target or "baseline",
        verdict(line.passed),
    )


def _timed_row(line: TimedLine) -> tuple:
    t = line.timing
    return (
        line.label,
        f"{t.seconds:.3f}",
        "" if t.rows is None else str(t.rows),
        "" if t.rows_per_second is None else f"{t.rows_per_second:.0f}",
        "" if t.peak_rss_mb is None else f"{t.peak_rss_mb:.0f}",
        line.target,
        verdict(line.passed),
    )


def _print_table(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    numeric = [i > 0 and all(_is_number(row[i]) for row in rows) for i in range(len(header))]
    for row in (header, *rows):
        cells = [
            str(cell).rjust(width) if is_number else str(cell).ljust(width)
            for cell, width, is_number in zip(row, widths, numeric, strict=True)
        ]
        print("  ".join(cells).rstrip())


def _is_number(text: str) -> bool:
    try:
        float(text or "0")
    except ValueError:
        return False
    return True
