"""`python -m codesearch` runs the command-line tool."""

from codesearch.cli import main

raise SystemExit(main())
