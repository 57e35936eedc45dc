"""Wiring of the organizations service: one service on the bus, named "organizations", answering
`pb.<county>.cmd.organizations.<name>` and `pb.<county>.qry.organizations.<name>` for every subject
its bounded contexts list in their HANDLERS, and running their projections."""
from shared.archive import ArchiveProjection
from shared.service import Routes, Service
from services.organizations.accounts import handlers as accounts
from services.organizations.audit import handlers as audit
from services.organizations.campaigns import handlers as campaigns
from services.organizations.campaigns.projections.campaigns import CampaignsProjection
from services.organizations.centres import handlers as centres
from services.organizations.centres.projections.centres import CentresProjection
from services.organizations.development import handlers as development
from services.organizations.development.projections.development import DevelopmentProjection
from services.organizations.enterprises import handlers as enterprises
from services.organizations.membership import handlers as membership
from services.organizations.membership.projections.membership import MembershipProjection
from services.organizations.mobile import handlers as mobile
from services.organizations.mobile.projections.mobile import MobileProjection
from services.organizations.enterprises.projections.coverage import CoverageProjection
from services.organizations.lifecycle import handlers as lifecycle
from services.organizations.posts import handlers as posts
from services.organizations.posts.projections.posts import PostsProjection
from services.organizations.registry import handlers as registry
from services.organizations.registry.projections.registry import RegistryProjection
from services.organizations.rollups import handlers as rollups
from services.organizations.rooms import handlers as rooms
from services.organizations.rooms.projections.rooms import RoomsProjection
from services.organizations.rules import handlers as rules

CONTEXTS = (registry, lifecycle, campaigns, enterprises, rules, audit, development, accounts, centres, posts, rooms,
            membership, mobile)
PROJECTIONS = (RegistryProjection, CoverageProjection, CampaignsProjection, ArchiveProjection, DevelopmentProjection,
               CentresProjection, PostsProjection, RoomsProjection, MembershipProjection, MobileProjection)

routes = Routes("organizations", writes=("org",))
for context in CONTEXTS:
    for kind, name, handler, reply in context.HANDLERS:
        # every import may run as a job (shared/jobs.py): answered at once with its id when the request asks
        routes.add(kind, name, handler, reply, public=name in getattr(context, "PUBLIC", ()),
                   job=name.startswith("import_"))
for kind, name, handler, reply in rollups.HANDLERS:  # for province tokens (docs/decisions/014)
    routes.add(kind, name, handler, reply, province=True)


def create_service() -> Service:
    return Service(routes, projections=list(PROJECTIONS))
