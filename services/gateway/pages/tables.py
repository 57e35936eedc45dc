"""Tables that page, sort and filter on the server: the page asks for `?q=&sort=&page=`, gets one page
of rows and the links to the others (no row the person may not see ever reaches the browser)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import Request

PAGE_SIZE = 20


@dataclass
class Table:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    sort: str
    q: str
    base: dict[str, str]

    def link(self, **change: Any) -> str:
        params = {**self.base, "q": self.q, "sort": self.sort, "page": str(self.page), **change}
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    def sort_link(self, key: str) -> str:
        return self.link(sort=f"-{key}" if self.sort == key else key, page=1)

    def arrow(self, key: str) -> str:
        return "▲" if self.sort == key else "▼" if self.sort == f"-{key}" else ""


def _key(value: Any) -> tuple:
    return (value is None, value if value is not None else 0)


def table(request: Request, items: list[dict[str, Any]], sortable: tuple[str, ...], searchable: tuple[str, ...],
          default_sort: str, keep: tuple[str, ...] = (), where: Callable[[dict], bool] | None = None,
          page_size: int = PAGE_SIZE) -> Table:
    """`?q=` keeps rows whose searchable fields contain it; `?sort=key` or `-key` (only `sortable` keys);
    `?page=n`. Other query parameters in `keep` stay in every link (e.g. a year or a township)."""
    params = request.query_params
    q = params.get("q", "").strip()[:100]
    sort = params.get("sort", default_sort)
    if sort.lstrip("-") not in sortable:
        sort = default_sort
    rows = [r for r in items if (where is None or where(r))
            and (not q or any(q.lower() in str(r.get(f) or "").lower() for f in searchable))]
    rows.sort(key=lambda r: _key(r.get(sort.lstrip("-"))), reverse=sort.startswith("-"))
    pages = max(1, -(-len(rows) // page_size))
    try:
        page = min(max(1, int(params.get("page", "1"))), pages)
    except ValueError:
        page = 1
    base = {k: params[k] for k in keep if params.get(k)}
    return Table(rows[(page - 1) * page_size: page * page_size], len(rows), page, pages, sort, q, base)
