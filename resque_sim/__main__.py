"""``python -m resque_sim``: the same as the ``resque-sim`` command."""

from resque_sim.launch import main

main()
