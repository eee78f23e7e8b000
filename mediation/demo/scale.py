"""Many demo cases at once (`flask demo generate --cases N`), for trying the product at scale.

The demo's planner (`cases.CaseGenerator`) plans each case's timeline exactly as for the
ordinary demo; `BulkReplay` has the workflow decide each move, as `flask demo load` does, and
the bulk writer write them as rows (tests/test_bulk.py compares the two). Cases are planned
and written in chunks of `CHUNK`, each in registration order and committed on its own, so
memory stays flat; case numbers are gapless per year, in registration order within each
chunk.
"""

import random
from collections.abc import Callable
from datetime import datetime

from mediation import clock
from mediation.auth.models import User
from mediation.cases import workflow as wf
from mediation.cases.bulk import BulkCase, BulkWriter
from mediation.cases.workflow import Actor, ObligationData
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
    """The planner's steps, as `CaseGenerator.replay` does them through the workflow one case
    at a time, decided by the workflow and written by the bulk writer."""

    def __init__(self, generator: CaseGenerator):
        self.generator = generator
        self.staff = generator.staff
        self.scheduler = Actor.scheduler()
        self.writer = BulkWriter(generator.centre)
        self.rules = self.writer.rules

    def run(self, draft: Draft) -> BulkCase:
        register, *steps = draft.steps
        plan = wf.decide_registration(self.rules, draft.intake, self.staff, at=register.at)
        case = self.writer.register(plan)
        for step in steps:
            getattr(self, f"_{step.action}")(case, step.at, **step.args)
        return case

    def _apply(self, case: BulkCase, decide: Callable, *args, at: datetime, **kwargs) -> None:
        self.writer.apply(case, decide(case, *args, self.rules, at=at, **kwargs))

    def _handler(self, case: BulkCase) -> Actor:
        user_id = case.mediator.user_id
        user = self.generator.users.get(user_id) if user_id else None
        return Actor.for_user(user) if user is not None else self.staff

    def _route(self, case: BulkCase, at: datetime, organization, mediator) -> None:
        self._apply(case, wf.decide_route, organization, mediator, self.staff, at=at)

    def _reassign(self, case: BulkCase, at: datetime, mediator, reason) -> None:
        self._apply(case, wf.decide_reassign, mediator, reason, self.staff, at=at)

    def _session(self, case, at, held_at, place, is_online, attendance, minutes) -> None:
        self._apply(
            case,
            wf.decide_record_session,
            held_at,
            self._handler(case),
            place=place,
            is_online=is_online,
            attendance=attendance,
            minutes=minutes,
            at=at,
        )

    def _extend(self, case, at, days, reason, consents) -> None:
        given = {party.id: consent for party, consent in zip(case.parties, consents, strict=True)}
        self._apply(case, wf.decide_extend, days, given, self._handler(case), reason=reason, at=at)

    def _agree(self, case, at, signed_on, terms, obligations) -> None:
        owed = [
            ObligationData(
                obligor_id=case.parties[item["obligor"]].id,
                obligee_id=case.parties[item["obligee"]].id,
                description=item["description"],
                due_on=item["due_on"],
                amount=item["amount"],
            )
            for item in obligations
        ]
        self._apply(case, wf.decide_agree, signed_on, terms, owed, self._handler(case), at=at)

    def _fulfil(self, case, at, index, performed_on, by_party) -> None:
        obligation = case.agreement.obligations[index]
        actor = self.staff
        if by_party:
            obligee = next(p for p in case.parties if p.id == obligation.obligee_id)
            actor = Actor.for_party(obligee)
        self._apply(case, wf.decide_fulfil, obligation, performed_on, actor, at=at)

    def _confirm(self, case, at, court, ruling, confirmed_on) -> None:
        self._apply(case, wf.decide_confirm, court, ruling, confirmed_on, self.staff, at=at)

    def _default(self, case, at) -> None:
        self._apply(case, wf.decide_default, self.scheduler, at=at)

    def _enforce(self, case, at, court, note) -> None:
        self._apply(case, wf.decide_enforce, court, self.staff, note=note, at=at)

    def _divert(self, case, at, reason, court, note) -> None:
        self._apply(case, wf.decide_divert, reason, court, self.staff, note=note, at=at)

    def _fail(self, case, at, court, facts) -> None:
        self._apply(
            case,
            wf.decide_fail,
            court,
            facts,
            self._handler(case),
            documents=data.TRANSFER_DOCUMENTS,
            at=at,
        )

    def _litigate(self, case, at, party, court, note) -> None:
        if party is not None:
            actor, on_behalf_of = Actor.for_party(case.parties[party]), None
        else:  # the party asked at the counter; staff record it for the applicant
            actor = self.staff
            on_behalf_of = next(p for p in case.parties if p.role == "applicant")
        self._apply(
            case,
            wf.decide_request_litigation,
            actor,
            court=court,
            note=note,
            on_behalf_of=on_behalf_of,
            at=at,
        )

    def _expire(self, case, at) -> None:
        self._apply(case, wf.decide_expire, self.scheduler, at=at)

    def _withdraw(self, case, at, reason) -> None:
        self._apply(case, wf.decide_withdraw, reason, self.staff, at=at)

    def _follow_up(self, case, at, is_satisfied, note) -> None:
        self._apply(case, wf.decide_follow_up, is_satisfied, note, self.staff, at=at)
