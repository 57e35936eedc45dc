"""设星方案 and 积分换星 (services/ratings/scheme.py): presets, building and checking slots, and rating — points
to stars, their colours, earned stars and the star class. Pure: no I/O."""
from __future__ import annotations

from collections import Counter

import orjson
import pytest
from pydantic import ValidationError

from services.ratings.commands import DefineStarScheme, SlotInput
from services.ratings.projections.stars_rows import scheme_definition
from services.ratings.scheme import PRESETS, StarScheme, build_slots, default_thresholds, validate_slots
from shared.catalog.base import decode_event
from shared.catalog.ratings import StarSchemeDefined, StarSlot
from shared.errors import DomainError


def fields(err: DomainError) -> list[str]:
    return [e.field for e in err.errors]


def beihai() -> StarScheme:
    return StarScheme(PRESETS["beihai-5"]())


def scheme_532() -> StarScheme:
    return StarScheme(PRESETS["532"](), class_one_min_stars=8)


# ---- presets and scheme definition --------------------------------------------------------------

def test_532_preset_has_five_common_three_duty_two_optional_at_ten_points():
    slots = PRESETS["532"]()
    assert Counter(s.kind for s in slots) == {"common": 5, "duty": 3, "optional": 2}
    assert all((s.points_per_star, s.red, s.silver, s.gold, s.earn_at) == (10, 6, 8, 10, 10) for s in slots)
    validate_slots(slots, 8)


def test_beihai_preset_names_the_five_member_stars():
    names = {s.category: s.name for s in PRESETS["beihai-5"]()}
    assert names == {"lead_by_example": "表率示范星", "tech_prosperity": "科技致富星",
                     "five_good_civility": "五好文明星", "harmony": "和谐促进星", "industry_champion": "产业状元星"}


def test_slot_thresholds_default_to_sixty_eighty_hundred_percent_rounded_up():
    assert default_thresholds(15) == (9, 12, 15)
    cmd = DefineStarScheme(year=2026, name="银海区党员评星", slots=[
        SlotInput(category="lead_by_example", name="表率示范星", kind="common", points_per_star=15),
        SlotInput(category="harmony", name="和谐促进星", kind="common", red=5)])
    first, second = build_slots(cmd)
    assert (first.red, first.silver, first.gold) == (9, 12, 15)
    assert (second.red, second.silver, second.gold, second.min_points, second.max_points) == (5, 8, 10, -10, 10)
    assert (first.earn_at, second.earn_at) == (15, 10)  # a star is earned at its full points (积分换星)


def test_unknown_preset_and_missing_slots_are_refused_on_their_fields():
    with pytest.raises(DomainError) as e:
        build_slots(DefineStarScheme(year=2026, name="x", preset="seven-stars"))
    assert (e.value.status, e.value.code, fields(e.value)) == (422, "unknown_preset", ["preset"])
    with pytest.raises(DomainError) as e:
        build_slots(DefineStarScheme(year=2026, name="x"))
    assert (e.value.code, fields(e.value)) == ("slots_required", ["slots"])


def _slot(category: str, **over) -> StarSlot:
    return StarSlot(**({"category": category, "name": "表率示范星", "kind": "common", "red": 6, "silver": 8,
                        "gold": 10, "earn_at": 10} | over))


def test_scheme_validation_reports_every_bad_field_by_path():
    slots = [_slot("lead_by_example"), _slot("harmony", silver=12, gold=11),
             _slot("lead_by_example", red=9), _slot("tech_prosperity", min_points=5, max_points=3),
             _slot("industry_champion", min_points=-5, max_points=0, red=0, earn_at=0)]
    with pytest.raises(DomainError) as e:
        validate_slots(slots, class_one_min_stars=6)
    assert (e.value.status, e.value.code) == (422, "invalid_star_scheme")
    assert set(fields(e.value)) == {"slots[1].gold", "slots[2].category", "slots[2].silver",
                                    "slots[3].min_points", "slots[4].max_points", "slots[4].red",
                                    "slots[4].earn_at", "class_one_min_stars"}


@pytest.mark.parametrize("count", [0, 31])
def test_a_scheme_has_one_to_thirty_slots(count):
    with pytest.raises(DomainError) as e:
        validate_slots([_slot(f"c{i}") for i in range(count)])
    assert fields(e.value) == ["slots"]


# ---- rating: colours, totals, classes -----------------------------------------------------------

@pytest.mark.parametrize("points,colour", [(-3, None), (5, None), (6, "red"), (7, "red"), (8, "silver"),
                                           (9, "silver"), (10, "gold"), (25, "gold")])
def test_colour_at_thresholds(points, colour):
    assert StarScheme.colour_for(PRESETS["beihai-5"]()[0], points) == colour


def test_rating_counts_lit_stars_and_ignores_unknown_categories():
    """A scheme that earns a star from its red threshold (60 %), as every scheme did before earning
    thresholds existed."""
    rating = StarScheme(PRESETS["beihai-5"](60)).rate({"lead_by_example": 10, "harmony": 6, "tech_prosperity": 5,
                                                        "kite_flying": 40})
    assert [(s.category, s.colour, s.points) for s in rating.stars] == [
        ("lead_by_example", "gold", 10), ("tech_prosperity", None, 5), ("five_good_civility", None, 0),
        ("harmony", "red", 6), ("industry_champion", None, 0)]
    assert rating.total_stars == 2 and rating.star_class is None


def test_class_one_from_eight_stars_class_two_below():
    codes = [s.category for s in PRESETS["532"]()]
    earn_at_60 = StarScheme(PRESETS["532"](60), class_one_min_stars=8)
    eight = earn_at_60.rate({c: 8 for c in codes[:8]})
    seven = earn_at_60.rate({c: 10 for c in codes[:7]} | {codes[7]: 5})
    assert (eight.total_stars, eight.star_class) == (8, "class_one")
    assert (seven.total_stars, seven.star_class) == (7, "class_two")


# ---- 积分换星: the earning threshold --------------------------------------------------------------

def test_by_default_a_star_is_earned_at_its_full_points_and_colours_grade_the_way_there():
    rating = beihai().rate({"lead_by_example": 10, "harmony": 6, "tech_prosperity": 9, "industry_champion": 14})
    assert [(s.category, s.colour, s.earned, s.points) for s in rating.stars] == [
        ("lead_by_example", "gold", True, 10), ("tech_prosperity", "silver", False, 9),
        ("five_good_civility", None, False, 0), ("harmony", "red", False, 6), ("industry_champion", "gold", True, 14)]
    assert rating.total_stars == 2


def test_by_default_class_one_needs_eight_full_stars():
    codes = [s.category for s in PRESETS["532"]()]
    assert scheme_532().rate({c: 9 for c in codes}).star_class == "class_two"  # ten silver stars, none earned
    eight = scheme_532().rate({c: 10 for c in codes[:8]})
    assert (eight.total_stars, eight.star_class) == (8, "class_one")


def test_earning_threshold_from_a_percentage_of_the_scheme_or_per_slot():
    cmd = DefineStarScheme(year=2026, name="银海区党员评星", earn_at_percent=75, slots=[
        SlotInput(category="lead_by_example", name="表率示范星", kind="common", points_per_star=15),
        SlotInput(category="harmony", name="和谐促进星", kind="common", earn_at=4)])
    assert [s.earn_at for s in build_slots(cmd)] == [12, 4]  # 75 % of 15, rounded up; the slot's own
    preset = DefineStarScheme(year=2026, name="方案", preset="beihai-5", earn_at_percent=60)
    assert {s.earn_at for s in build_slots(preset)} == {6}


@pytest.mark.parametrize("percent", [0, 101])
def test_earn_at_percent_is_a_percentage(percent):
    with pytest.raises(ValidationError) as e:
        DefineStarScheme(year=2026, name="方案", preset="532", earn_at_percent=percent)
    assert e.value.errors()[0]["loc"] == ("earn_at_percent",)


V1_SLOT = {"category": "lead_by_example", "name": "表率示范星", "kind": "common", "points_per_star": 10,
           "min_points": -10, "max_points": 10, "red": 6, "silver": 8, "gold": 10}
V1_SCHEME = {"year": 2025, "rated_kind": "member", "township_id": None, "name": "2025年党员评星", "preset": None,
             "slots": [V1_SLOT], "class_one_min_stars": None}


def test_a_v1_scheme_read_from_the_log_still_earns_from_its_red_threshold():
    """Stored events never change meaning: v1 lit and counted a star from red."""
    event = decode_event("StarSchemeDefined", 1, V1_SCHEME)
    assert isinstance(event, StarSchemeDefined) and event.slots[0].earn_at == 6
    rating = StarScheme.from_event(event).rate({"lead_by_example": 6})
    assert [(s.colour, s.earned) for s in rating.stars] == [("red", True)] and rating.total_stars == 1
    assert StarSchemeDefined.schema_version == 2
    with pytest.raises(ValidationError):  # v2 needs the threshold: it is never guessed for a new event
        decode_event("StarSchemeDefined", 2, V1_SCHEME)


def test_a_read_model_row_written_before_the_upgrade_is_read_as_v1():
    assert scheme_definition(orjson.dumps(V1_SCHEME)).slots[0].earn_at == 6
    v2 = decode_event("StarSchemeDefined", 1, V1_SCHEME).model_copy(update={"slots": (StarSlot(**V1_SLOT, earn_at=9),)})
    assert scheme_definition(orjson.dumps(v2.model_dump(mode="json"))).slots[0].earn_at == 9
