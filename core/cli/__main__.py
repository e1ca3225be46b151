"""`python -m reelmark.core.cli …`: the CLI with no console script on PATH (the daemon launcher uses it)."""

from reelmark.core.cli import main

main()
