"""Many demo cases at once (`flask demo generate --cases N`), for trying the product at scale.

The demo's planner (`cases.CaseGenerator`) plans each case's timeline exactly as for the
ordinary demo; `BulkReplay` replays its steps as `flask demo load` does (`cases.StepReplay`:
the workflow decides each move) and has the bulk writer write them as rows (tests/test_bulk.py
compares the two). Cases are planned and written in chunks of `CHUNK`, each in registration
order and committed on its own, so memory stays flat; case numbers are gapless per year, in
registration order within each chunk.
"""

import random
from collections.abc import Callable
from datetime import datetime

from mediation import clock
from mediation.auth.models import User
from mediation.cases import workflow as wf
from mediation.cases.bulk import BulkCase, BulkWriter
from mediation.database import bulk_page_cache
from mediation.demo.cases import SEED, CaseGenerator, Draft, StepReplay
from mediation.directory.models import Centre
from mediation.extensions import db

CHUNK = 20_000
FLUSH_EVERY = 2_000


def generate_cases(
    centre: Centre,
    staff: User,
    count: int,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Plan and write `count` cases for the demo centre; commits each chunk."""
    generator = CaseGenerator(centre, staff, clock.now(), random.Random(SEED))
    with bulk_page_cache():
        return _generate(generator, count, progress)


def _generate(generator: CaseGenerator, count: int, progress) -> int:
    done = 0
    while done < count:
        drafts = generator.plan(min(CHUNK, count - done))
        drafts.sort(key=lambda draft: draft.steps[0].at)
        replay = BulkReplay(generator)
        for index, draft in enumerate(drafts, start=1):
            replay.run(draft)
            if index % FLUSH_EVERY == 0:
                replay.writer.flush()
        replay.writer.flush()
        db.session.commit()
        done += len(drafts)
        if progress:
            progress(done, count)
    return done


class BulkReplay:
    """The planner's cases registered and their steps replayed as `flask demo load` replays
    them (`cases.StepReplay`), each decision written by the bulk writer."""

    def __init__(self, generator: CaseGenerator):
        self.staff = generator.staff
        self.writer = BulkWriter(generator.centre)
        self.steps = StepReplay(generator, self._write)

    def run(self, draft: Draft) -> BulkCase:
        register, *steps = draft.steps
        plan = wf.decide_registration(self.writer.rules, draft.intake, self.staff, at=register.at)
        case = self.writer.register(plan)
        self.steps.run(case, steps)
        return case

    def _write(self, case: BulkCase, decide: Callable, *args, at: datetime, **options) -> None:
        self.writer.apply(case, decide(case, *args, self.writer.rules, at=at, **options))
