"""The `dangjian` command line (console script `services.cli:main`).

One module per command group; each registers its typer commands on the one app (services/cli/app.py):

    system.py    start, token, add-county, health
    imports.py   import-members, import-enterprises
    reports.py   coverage, export-coverage, export-ledger
    ratings.py   score
    log.py       verify, rebuild
    jobs.py      jobs (long work: rebuilds, imports; run_job follows one)
    audit.py     audit verify | export | compare | keys | rotate-key
    audit_replay.py  audit rating | distribution | scores (as of a date, as known at a time)
    membership.py  probation-due, mobile-figures, import-service-points
    security.py  revoke-tokens, credentials (and the first-run admin token of `start`)
    asyncapi.py  asyncapi
    accounts.py  create-admin
    notifications.py  notifications subscriptions|deliveries|replay

To add a group: write `services/cli/<group>.py` with `@app.command(...)` functions (helpers for talking to
the running system are in services/cli/common.py) and add it to the import below.
"""
from services.cli.app import app
# each import registers the group's commands; `dangjian --help` lists them in this order
from services.cli import system
from services.cli import imports
from services.cli import reports
from services.cli import ratings
from services.cli import log
from services.cli import jobs
from services.cli import audit
from services.cli import audit_replay
from services.cli import membership
from services.cli import security
from services.cli import asyncapi
from services.cli import accounts
from services.cli import notifications

GROUPS = (system, imports, reports, ratings, log, audit, audit_replay, membership, security, asyncapi, accounts,
          notifications)

__all__ = ["app", "main"]


def main() -> None:
    app()
