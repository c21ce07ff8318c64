"""``python -m syndication`` is ``syndicate``."""

from syndication.cli import main

main()
