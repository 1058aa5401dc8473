"""Property: whatever Python value ActiveJob's format can carry is read back as the value written, and
written again as the same wire form (so symbol keys, keywords and serializers survive a round trip)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from resque_impl.activejob import (
    DateTime,
    GlobalID,
    IndifferentHash,
    RubyModule,
    Symbol,
    TimeWithZone,
    deserialize_arguments,
    serialize_arguments,
)
from resque_impl.activejob.arguments import RESERVED_KEYS

names = st.text(min_size=1, max_size=8).filter(lambda text: text not in RESERVED_KEYS)
offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    names.map(Symbol),
    st.dates(),
    moments,
    moments.map(DateTime.of),
    moments.map(TimeWithZone.of),
    st.timedeltas(min_value=timedelta(days=-10_000), max_value=timedelta(days=10_000)),
    st.builds(GlobalID.create, st.just("app"), st.sampled_from(["User", "Admin::User"]), st.text(min_size=1)),
    st.from_regex(r"[A-Z][a-z0-9_]{0,5}(::[A-Z][a-z0-9_]{0,5}){0,2}", fullmatch=True).map(RubyModule),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(names | names.map(Symbol), inner, max_size=4)
        | st.dictionaries(names, inner, max_size=4).map(IndifferentHash)
    ),
    max_leaves=12,
)
keywords = st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True), values, max_size=3)


@given(st.lists(values, max_size=4), keywords)
def test_values_read_back_as_written_and_write_the_same_wire_form(args: list[Any], kwargs: dict[str, Any]) -> None:
    wire = serialize_arguments(args, kwargs)

    read_args, read_kwargs = deserialize_arguments(wire)

    assert (read_args, read_kwargs) == (args, kwargs)
    assert serialize_arguments(read_args, read_kwargs) == wire
