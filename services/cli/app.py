"""The typer app every command group registers on, and the consoles commands print to."""
from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="dangjian 党建 — grassroots Party-building management", no_args_is_help=True,
                  pretty_exceptions_enable=False)
out = Console(soft_wrap=True)  # tokens and URLs must stay copyable: never wrapped
err = Console(stderr=True)
