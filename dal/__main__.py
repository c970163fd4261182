"""`python -m dal`: the `dal` command."""

from dal.cli import main

raise SystemExit(main())
