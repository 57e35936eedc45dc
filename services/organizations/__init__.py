"""The organizations service: one service on the bus ("organizations"), five bounded contexts.

    registry/     counties, townships, Party organizations, members, the member import
    lifecycle/    rename, upgrade, transfer, merge, dissolve, restore, committees, terms, elections
    campaigns/    classification (分类定级), rectification of weak organizations (整顿软弱涣散)
    enterprises/  两新组织: units, founding modes, instructors, 工青妇, coverage, the unit import
    rules/        the county rule table (规则表), effective from a date

Each context has the same shape: commands.py (Pydantic commands and their replies), domain.py
(aggregates and named invariants, no I/O), handlers.py (thin on_<command> handlers and the map of
every subject the context answers), queries.py (query models, handlers and reads of its
read-model), projections/. app.py composes them (docs/decisions/013-bounded-contexts.md).
"""
