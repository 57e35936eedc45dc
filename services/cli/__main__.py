"""`python -m services.cli` — the same as the `dangjian` command."""
from services.cli import main

main()
