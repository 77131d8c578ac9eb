"""`python -m copbot` runs the command-line interface."""

from copbot.cli import main

raise SystemExit(main())
