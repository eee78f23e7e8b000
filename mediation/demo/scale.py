"""Many demo cases at once (`flask demo generate --cases N`), for trying the product at scale.

The demo's planner (`cases.CaseGenerator`) plans each case's timeline exactly as for the
ordinary demo; instead of replaying it through `workflow` one move at a time, `BulkReplay`
hands the moves to the bulk writer, which writes the rows the workflow would have written
(tests/test_bulk.py compares the two). Cases are planned and written in chunks of `CHUNK`,
each in registration order and committed on its own, so memory stays flat; case numbers are
gapless per year, in registration order within each chunk.
"""

import random
from collections.abc import Callable
from datetime import datetime

from mediation import clock
from mediation.auth.models import User
from mediation.cases.bulk import BulkCase, BulkWriter, PlannedObligation
from mediation.cases.workflow import PARTY, Actor
from mediation.database import bulk_page_cache
from mediation.demo import data
from mediation.demo.cases import SEED, CaseGenerator, Draft
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
    """The planner's steps, as `CaseGenerator.replay` does them, through the bulk writer."""

    def __init__(self, generator: CaseGenerator):
        self.generator = generator
        self.staff = generator.staff
        self.scheduler = Actor.scheduler()
        self.writer = BulkWriter(generator.centre, self.staff)

    def run(self, draft: Draft) -> BulkCase:
        register, *steps = draft.steps
        case = self.writer.register(draft.intake, register.at)
        for step in steps:
            getattr(self, f"_{step.action}")(case, step.at, **step.args)
        return case

    def _handler(self, case: BulkCase) -> Actor:
        user_id = case.mediator.user_id
        user = self.generator.users.get(user_id) if user_id else None
        return Actor.for_user(user) if user is not None else self.staff

    def _party(self, case: BulkCase, position: int) -> Actor:
        name = case.parties[position]["name"]
        return Actor("party", name=name, roles=frozenset({PARTY}))

    def _route(self, case: BulkCase, at: datetime, organization, mediator) -> None:
        self.writer.route(case, mediator, at)

    def _reassign(self, case: BulkCase, at: datetime, mediator, reason) -> None:
        self.writer.reassign(case, mediator, reason, at)

    def _session(self, case, at, held_at, place, is_online, attendance, minutes) -> None:
        self.writer.record_session(
            case,
            held_at,
            at,
            place=place,
            is_online=is_online,
            attendance=attendance,
            minutes=minutes,
            actor=self._handler(case),
        )

    def _extend(self, case, at, days, reason, consents) -> None:
        self.writer.extend(case, days, consents, reason, at, actor=self._handler(case))

    def _agree(self, case, at, signed_on, terms, obligations) -> None:
        planned = [
            PlannedObligation(
                item["obligor"],
                item["obligee"],
                item["description"],
                item["due_on"],
                item["amount"],
            )
            for item in obligations
        ]
        self.writer.agree(case, signed_on, terms, planned, at, actor=self._handler(case))

    def _fulfil(self, case, at, index, performed_on, by_party) -> None:
        obligation = case.obligations[index]
        actor = self.staff
        if by_party:
            obligee = next(p for p in case.parties if p["id"] == obligation["obligee_id"])
            actor = self._party(case, obligee["position"])
        self.writer.fulfil(case, obligation, performed_on, at, actor=actor)

    def _confirm(self, case, at, court, ruling, confirmed_on) -> None:
        self.writer.confirm(case, court, ruling, confirmed_on, at)

    def _default(self, case, at) -> None:
        self.writer.default(case, at, actor=self.scheduler)

    def _enforce(self, case, at, court, note) -> None:
        self.writer.transfer(case, "enforce", "enforcement", at, court=court, undisputed_facts=note)

    def _divert(self, case, at, reason, court, note) -> None:
        self.writer.transfer(case, "divert", reason, at, court=court, undisputed_facts=note)

    def _fail(self, case, at, court, facts) -> None:
        self.writer.transfer(
            case,
            "fail",
            "failed",
            at,
            court=court,
            undisputed_facts=facts,
            documents=data.TRANSFER_DOCUMENTS,
            actor=self._handler(case),
        )

    def _litigate(self, case, at, party, court, note) -> None:
        if party is not None:
            actor, name = self._party(case, party), case.parties[party]["name"]
        else:  # the party asked at the counter; staff record it for the applicant
            actor, name = self.staff, case.party("applicant")["name"]
        self.writer.transfer(
            case,
            "request_litigation",
            "party_request",
            at,
            court=court,
            actor=actor,
            party=name,
            note=note,
        )

    def _expire(self, case, at) -> None:
        self.writer.transfer(case, "expire", "deadline_expired", at, actor=self.scheduler)

    def _withdraw(self, case, at, reason) -> None:
        self.writer.withdraw(case, reason, at)

    def _follow_up(self, case, at, is_satisfied, note) -> None:
        self.writer.follow_up(case, is_satisfied, note, at)
