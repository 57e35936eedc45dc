"""设星方案 and 积分换星, pure: the presets, building and checking a scheme's star slots, and rating —
from points by category to stars, their colours and the star class.

A slot's star is *earned* (counted in total_stars, 一类/二类) from `earn_at` points: by default the full
`points_per_star` (原则上每得够10分获得一个星级). Its colour grades the degree within the star: red 红星,
silver 银星, gold 金星 from `red` / `silver` / `gold` points (defaults 60/80/100 % of points_per_star),
so a star on its way shows a colour before it is earned. A scheme defined before earning thresholds
existed (StarSchemeDefined v1) earns from its red threshold, as it always did
(docs/decisions/011-earning-threshold.md).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from services.ratings.commands import DefineStarScheme
from shared.catalog.ratings import StarKind, StarSchemeDefined, StarSlot
from shared.errors import DomainError, FieldError, invalid

StarColour = Literal["gold", "silver", "red"]
StarClass = Literal["class_one", "class_two"]
MAX_SLOTS = 30
EARN_AT_PERCENT = 100  # of points_per_star, for new schemes


def _percent_of(points_per_star: int, pct: int) -> int:
    return -(-points_per_star * pct // 100)  # rounded up


def default_thresholds(points_per_star: int) -> tuple[int, int, int]:
    """红/银/金 at 60/80/100 % of a star's points, rounded up (10 → 6/8/10)."""
    red, silver, gold = (_percent_of(points_per_star, pct) for pct in (60, 80, 100))
    return red, silver, gold


def default_earn_at(points_per_star: int, earn_at_percent: int = EARN_AT_PERCENT) -> int:
    """Points from which a slot's star is earned: `earn_at_percent` of points_per_star, rounded up."""
    return _percent_of(points_per_star, earn_at_percent)


# ---- presets -------------------------------------------------------------------------------

def _slot(category: str, name: str, kind: StarKind, earn_at_percent: int, points_per_star: int = 10) -> StarSlot:
    red, silver, gold = default_thresholds(points_per_star)
    return StarSlot(category=category, name=name, kind=kind, points_per_star=points_per_star,
                    red=red, silver=silver, gold=gold, earn_at=default_earn_at(points_per_star, earn_at_percent))


def _preset_532(earn_at_percent: int = EARN_AT_PERCENT) -> tuple[StarSlot, ...]:
    """Inner Mongolia 532 model (嘎查村党组织星级化): 5 共性星 + 3 职责星 + 2 自选星."""
    p = earn_at_percent
    return (
        _slot("leadership_team", "班子建设星", "common", p),
        _slot("member_corps", "党员队伍星", "common", p),
        _slot("rules_in_practice", "制度落实星", "common", p),
        _slot("activity_venue", "阵地建设星", "common", p),
        _slot("public_satisfaction", "群众满意星", "common", p),
        _slot("economic_development", "发展经济星", "duty", p),
        _slot("village_governance", "乡村治理星", "duty", p),
        _slot("serving_the_people", "服务群众星", "duty", p),
        _slot("ecological_living", "生态宜居星", "optional", p),
        _slot("ethnic_unity", "民族团结星", "optional", p),
    )


def _preset_beihai_5(earn_at_percent: int = EARN_AT_PERCENT) -> tuple[StarSlot, ...]:
    """The five Beihai member stars (北海党员五星)."""
    p = earn_at_percent
    return (
        _slot("lead_by_example", "表率示范星", "common", p),
        _slot("tech_prosperity", "科技致富星", "common", p),
        _slot("five_good_civility", "五好文明星", "common", p),
        _slot("harmony", "和谐促进星", "common", p),
        _slot("industry_champion", "产业状元星", "common", p),
    )


PRESETS: dict[str, Callable[..., tuple[StarSlot, ...]]] = {"532": _preset_532, "beihai-5": _preset_beihai_5}
PRESET_CLASS_ONE_MIN_STARS: dict[str, int] = {"532": 8}


# ---- building and validating a scheme --------------------------------------------------------

def build_slots(cmd: DefineStarScheme) -> tuple[StarSlot, ...]:
    """The slots the command means: its own (thresholds defaulted) or else its preset's."""
    if cmd.preset is not None and cmd.preset not in PRESETS:
        known = "、".join(PRESETS)
        raise invalid("unknown_preset", "preset", f"没有预设方案“{cmd.preset}”，可选：{known} / "
                      f"unknown preset {cmd.preset!r}; known: {', '.join(PRESETS)}")
    percent = cmd.earn_at_percent if cmd.earn_at_percent is not None else EARN_AT_PERCENT
    if cmd.slots is None:
        if cmd.preset is None:
            raise invalid("slots_required", "slots", "请填写星位或选择预设方案 / give slots or a preset")
        return PRESETS[cmd.preset](percent)
    slots = []
    for s in cmd.slots:
        red, silver, gold = default_thresholds(s.points_per_star)
        slots.append(StarSlot(category=s.category, name=s.name, kind=s.kind, points_per_star=s.points_per_star,
                              min_points=s.min_points, max_points=s.max_points,
                              red=red if s.red is None else s.red,
                              silver=silver if s.silver is None else s.silver,
                              gold=gold if s.gold is None else s.gold,
                              earn_at=default_earn_at(s.points_per_star, percent) if s.earn_at is None else s.earn_at))
    return tuple(slots)


def class_one_min_stars_for(cmd: DefineStarScheme) -> int | None:
    if cmd.class_one_min_stars is not None:
        return cmd.class_one_min_stars
    return PRESET_CLASS_ONE_MIN_STARS.get(cmd.preset or "")


def validate_slots(slots: Sequence[StarSlot], class_one_min_stars: int | None = None) -> None:
    """All problems at once (one 422 listing every field), so a form can mark them together."""
    errors: list[FieldError] = []

    def bad(path: str, message: str) -> None:
        errors.append(FieldError(path, message))

    if not 1 <= len(slots) <= MAX_SLOTS:
        bad("slots", f"星位数须在1到{MAX_SLOTS}之间 / a scheme has 1 to {MAX_SLOTS} slots, not {len(slots)}")
    seen: set[str] = set()
    for i, s in enumerate(slots):
        at = f"slots[{i}]"
        if s.category in seen:
            bad(f"{at}.category", f"类别重复：{s.category} / category {s.category} appears twice")
        seen.add(s.category)
        if s.red < 1:
            bad(f"{at}.red", f"红星门槛至少为1分 / red threshold must be at least 1, not {s.red}")
        if s.red > s.silver:
            bad(f"{at}.silver", f"银星门槛不能低于红星 / silver ({s.silver}) must not be below red ({s.red})")
        if s.silver > s.gold:
            bad(f"{at}.gold", f"金星门槛不能低于银星 / gold ({s.gold}) must not be below silver ({s.silver})")
        if s.earn_at < 1:
            bad(f"{at}.earn_at", f"得星门槛至少为1分 / earn_at must be at least 1, not {s.earn_at}")
        if s.min_points > s.max_points:
            bad(f"{at}.min_points", f"单次扣分下限不能高于加分上限 / min_points ({s.min_points}) "
                f"must not exceed max_points ({s.max_points})")
        if s.max_points <= 0:
            bad(f"{at}.max_points", f"单次加分上限须大于0 / max_points must be above 0, not {s.max_points}")
    if class_one_min_stars is not None and not 0 <= class_one_min_stars <= len(slots):
        bad("class_one_min_stars", f"一类所需星数须在0到{len(slots)}之间 / class_one_min_stars must be "
            f"between 0 and the {len(slots)} slots, not {class_one_min_stars}")
    if errors:
        raise DomainError("invalid_star_scheme", "设星方案有误 / the star scheme is invalid: "
                          + "; ".join(f"{e.field}: {e.message}" for e in errors), 422, errors)


# ---- rating: points → stars ------------------------------------------------------------------

@dataclass(frozen=True)
class LitStar:
    category: str
    name: str
    kind: StarKind
    colour: StarColour | None  # None: below the red threshold
    earned: bool               # counts as a star (points ≥ the slot's earn_at)
    points: int


@dataclass(frozen=True)
class Rating:
    stars: list[LitStar]
    total_stars: int              # earned stars
    star_class: StarClass | None  # None: the scheme sets no 一类 cut


@dataclass(frozen=True)
class StarScheme:
    slots: tuple[StarSlot, ...]
    class_one_min_stars: int | None = None

    @classmethod
    def from_event(cls, event: StarSchemeDefined) -> "StarScheme":
        return cls(tuple(event.slots), event.class_one_min_stars)

    def slot(self, category: str) -> StarSlot | None:
        return next((s for s in self.slots if s.category == category), None)

    @property
    def categories(self) -> list[str]:
        return [s.category for s in self.slots]

    @staticmethod
    def colour_for(slot: StarSlot, points: int) -> StarColour | None:
        if points >= slot.gold:
            return "gold"
        if points >= slot.silver:
            return "silver"
        if points >= slot.red:
            return "red"
        return None

    def rate(self, points_by_category: Mapping[str, int]) -> Rating:
        """One entry per slot; points in categories the scheme does not know are ignored."""
        stars = []
        for s in self.slots:
            pts = points_by_category.get(s.category, 0)
            stars.append(LitStar(s.category, s.name, s.kind, self.colour_for(s, pts), pts >= s.earn_at, pts))
        total = sum(1 for star in stars if star.earned)
        cut = self.class_one_min_stars
        star_class: StarClass | None = None if cut is None else ("class_one" if total >= cut else "class_two")
        return Rating(stars, total, star_class)
