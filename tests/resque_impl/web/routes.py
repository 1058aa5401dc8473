"""The dashboard's route table, turned into concrete requests: every rule with sample arguments."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for

__all__ = ["SAMPLE_ARGS", "Route", "routes"]

#: A value for each URL argument a rule may take; a new argument must be added here.
SAMPLE_ARGS: dict[str, object] = {
    "queue": "email",
    "worker_id": "vm:19891:high,email",
    "filename": "app.css",
    "timestamp": 1893456000,
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    url: str
    methods: frozenset[str]

    @property
    def mutation(self) -> bool:
        return "POST" in self.methods

    def __str__(self) -> str:
        return f"{'POST' if self.mutation else 'GET'} {self.url}"


def routes(app: Flask) -> list[Route]:
    """Every rule of ``app`` as a URL with sample arguments."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            unknown = set(rule.arguments) - set(SAMPLE_ARGS)
            assert not unknown, f"route {rule.rule} takes {unknown}: add sample values to SAMPLE_ARGS"
            url = url_for(rule.endpoint, **{name: SAMPLE_ARGS[name] for name in rule.arguments})
            found.append(Route(rule.endpoint, url, frozenset(rule.methods or ()) - {"OPTIONS"}))
    return sorted(found, key=lambda route: (route.endpoint, route.url))
