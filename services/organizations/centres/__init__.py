"""Centres: 党群服务中心 (Party-mass service centres and stations) — the registry with level, floor area,
zones, signage and service windows; the county's standards per level (data with an effective date);
inspections (达标核查) and 挂牌; coverage of the county, townships, villages and communities by a
centre to standard, as of any date; yearly upgrade plans (提升改造, 优化) and their progress."""
