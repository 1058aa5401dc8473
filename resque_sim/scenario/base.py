"""The base of every scenario model (frozen, strict, naming unknown fields) and the immutable mappings
the models hold.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, WrapSerializer, model_validator

from resque_sim.scenario.errors import FieldProblem, show

__all__ = ["FrozenDict", "FrozenMap", "Model", "Weights"]


K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V]):
    """A read-only mapping that, unlike ``MappingProxyType``, pickles (replications may run in processes)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


def _normalised_weights(weights: Mapping[str, float]) -> FrozenDict[str, float]:
    """Check every weight is positive and scale them to sum to 1 (so ``{A: 7, B: 3}`` means 70/30)."""
    if not weights:
        raise ValueError("must name at least one entry with a positive weight")
    for key, weight in weights.items():
        if weight <= 0:
            raise FieldProblem(f"weight {show(weight)} must be positive", loc=(key,))
    total = sum(weights.values())
    return FrozenDict({key: weight / total for key, weight in weights.items()})


_AS_DICT = WrapSerializer(lambda value, handler: handler(dict(value)))
FrozenMap = Annotated[Mapping[K, V], AfterValidator(FrozenDict), _AS_DICT]
Weights = Annotated[Mapping[str, float], AfterValidator(_normalised_weights), _AS_DICT]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        """Name the unknown field and suggest the nearest known one (``extra="forbid"`` alone cannot)."""
        if isinstance(data, Mapping):
            known = [field.alias or name for name, field in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), known, n=1)
                    hint = f'did you mean "{close[0]}"?' if close else f"known fields: {', '.join(known)}"
                    raise FieldProblem(f"unknown field; {hint}", loc=(str(key),))
        return data
