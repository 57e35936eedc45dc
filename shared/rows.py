"""Reading read-model rows as plain dicts, and slicing long id lists: the few lines every context's
queries and projections need (written once here rather than in each of them)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, select

T = TypeVar("T")
IN_CHUNK = 500  # ids per IN (...) list: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters


def chunks(items: Sequence[T], n: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of at most n."""
    for i in range(0, len(items), n):
        yield items[i:i + n]


def row_dicts(rows: Iterable[Any], drop: tuple[str, ...] = ("county",), iso: bool = False) -> list[dict[str, Any]]:
    """Result rows as dicts without the `drop` columns (the county every query already knows); with iso,
    dates and times as ISO strings (what a reply carries)."""
    return [{k: (v.isoformat() if iso and hasattr(v, "isoformat") else v)
             for k, v in r._mapping.items() if k not in drop} for r in rows]


def county_rows(engine: Engine, table: Table, county: str, *order_by: Any) -> list[dict[str, Any]]:
    """Every row of one county in a read-model table (all columns), in the given order (default `seq`)."""
    with engine.connect() as conn:
        return row_dicts(conn.execute(select(table).where(table.c.county == county)
                                      .order_by(*(order_by or (table.c.seq,)))), drop=())
