"""`python -m fluentai`: the same as the `fluentai` command."""

from .cli import main

raise SystemExit(main())
