"""``python -m resque_impl.cli`` runs ``resque-impl``."""

from resque_impl.cli import main

main()
