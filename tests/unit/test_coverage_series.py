"""The monthly coverage series folds the log once over all month ends: the same units and figures as
folding it from scratch for each month end, back-dated entries included."""
from __future__ import annotations

import random
from datetime import date, timedelta

from services.organizations.enterprises.coverage import coverage
from services.organizations.enterprises.domain import fold_as_of, fold_month_ends
from services.organizations.enterprises.figures import month_ends
from services.organizations.rules.baseline import NATIONAL_BASELINE
from shared.catalog.enterprises import (
    EnterpriseBranchFounded, EnterpriseClosed, EnterpriseHeadcountUpdated, EnterpriseRegistered, EnterpriseReopened,
    InstructorAssigned, InstructorWithdrawn, MassOrganizationEstablished,
)
from tests.unit.test_coverage import log  # noqa: F401  (fixture: a small county, one entry back-dated)

ENDS = month_ends(date(2019, 1, 1), date(2025, 12, 31))


def test_folding_once_over_the_month_ends_equals_folding_each_month(log):  # noqa: F811
    assert list(fold_month_ends(log, ENDS)) == [(end, fold_as_of(log, end)) for end in ENDS]


def random_log(seed: int) -> list:
    """Units whose events are entered out of business-date order (late paper records) and interleaved."""
    rng, start, out = random.Random(seed), date(2024, 1, 1), []
    day = lambda: start + timedelta(days=rng.randrange(700))  # noqa: E731
    for n in range(40):
        eid = f"u{n}"
        out.append(EnterpriseRegistered(enterprise_id=eid, uscc=f"USCC{n}", name=f"单位{n}",
                                        unit_type="private_enterprise", township_id=f"t{n % 3}", industry="制造业",
                                        employees=rng.randrange(5, 80), full_members=rng.randrange(0, 6),
                                        probationary_members=0, operating_status="operating", fixed_premises=True,
                                        above_scale=False, registered_on=day()))
    for _ in range(400):
        eid, kind = f"u{rng.randrange(40)}", rng.randrange(7)
        out.append([
            lambda: EnterpriseHeadcountUpdated(enterprise_id=eid, employees=rng.randrange(5, 80),
                                               full_members=rng.randrange(0, 6), probationary_members=0,
                                               effective_on=day()),
            lambda: EnterpriseClosed(enterprise_id=eid, status="suspended", closed_on=day(), reason="停业"),
            lambda: EnterpriseReopened(enterprise_id=eid, reopened_on=day(), reason="复业"),
            lambda: InstructorAssigned(enterprise_id=eid, person_name="陈海生", role="instructor", assigned_on=day()),
            lambda: InstructorWithdrawn(enterprise_id=eid, withdrawn_on=day()),
            lambda: MassOrganizationEstablished(enterprise_id=eid, kind="trade_union", established_on=day()),
            lambda: EnterpriseBranchFounded(enterprise_id=eid, organization_id=f"o-{eid}", founding_mode="standalone",
                                            covered_enterprise_ids=(eid,), founded_on=day(), approved_by="县委组织部",
                                            approved_on=start),
        ][kind]())
    return out


def test_the_same_units_and_figures_with_late_entries_in_any_order():
    ends = month_ends(date(2024, 1, 1), date(2025, 12, 1))
    for seed in range(5):
        events = random_log(seed)
        for end, units in fold_month_ends(events, ends):
            assert units == fold_as_of(events, end), (seed, end)
            full, lite = (coverage(units, NATIONAL_BASELINE, details=d) for d in (True, False))
            assert lite.rows == full.rows and not lite.members_without_organization
            assert [(t.population, t.satisfied, t.achieved, t.met, t.population - t.satisfied) for t in lite.targets] \
                == [(t.population, t.satisfied, t.achieved, t.met, len(t.shortfall)) for t in full.targets]
