"""``python -m govwatch.cli``: the same command line as ``govwatch``."""

from govwatch.cli import main

main()
