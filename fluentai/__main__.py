"""`python -m fluentai`: the same as the `fluentai` command."""

from .frontends.cli import main

raise SystemExit(main())
