"""resque-sim: a SimPy load simulator that drives the real resque_impl library in simulated time."""

__all__: list[str] = []
