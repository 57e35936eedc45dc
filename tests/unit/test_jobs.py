"""The pure parts of jobs (shared/jobs.py): who sees a job, when a running one counts as lost, and progress
passed on from a rebuild's Progress."""
from __future__ import annotations

from shared import jobs
from shared.auth import Actor
from shared.deadline import past_deadline
from shared.progress import Progress


def record(**kw) -> dict:
    return {"job_id": "j1", "county": "450503", "state": "running", "created_at": 1000.0, "updated_at": 1000.0,
            "township": None, "branch": None, **kw}


def test_a_job_is_seen_under_the_read_rules_of_who_asked():
    county_job, township_job = record(), record(township="qiaogang")
    admin = Actor(sub="a", role="county_admin", county="450503")
    operator = Actor(sub="o", role="township_operator", county="450503", township="qiaogang")
    neighbour = Actor(sub="n", role="township_operator", county="450503", township="beihai")
    elsewhere = Actor(sub="e", role="county_admin", county="450502")
    assert jobs.visible(admin, county_job) and jobs.visible(admin, township_job)
    assert jobs.visible(operator, township_job) and not jobs.visible(operator, county_job)
    assert not jobs.visible(neighbour, township_job)
    assert not jobs.visible(elsewhere, county_job)


def test_a_running_job_without_sign_of_life_is_shown_lost():
    fresh = jobs.presented(record(), now=1000.0 + jobs.STALE_S - 1)
    assert fresh["state"] == "running" and "township" not in fresh
    stale = jobs.presented(record(), now=1000.0 + jobs.STALE_S + 1)
    assert stale["state"] == "lost" and stale["error"]["code"] == "job_lost"
    done = jobs.presented(record(state="succeeded"), now=1e9)
    assert done["state"] == "succeeded"


def test_progress_passes_each_update_to_its_listener():
    heard = []
    p = Progress(listener=lambda done, total: heard.append((done, total)))
    p.update(10, 100)
    p.update(20)
    assert heard == [(10, 100), (20, 100)]


def test_the_deadline_allows_for_clock_differences():
    assert not past_deadline({"deadline": 100.0}, now=100.5)
    assert past_deadline({"deadline": 100.0}, now=101.5)
    assert not past_deadline({}, now=1e12) and not past_deadline(None)
