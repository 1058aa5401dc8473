"""Ruby 3.1's ``inspect`` of JSON values, as the text Ruby Resque puts in messages."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl.ruby_inspect import ruby_inspect


@pytest.mark.parametrize(
    ("value", "ruby"),
    [
        # Each right-hand side is what `ruby -e 'p <value>'` prints under Ruby 3.1.
        (None, "nil"),
        ([True, False, 7, -3], "[true, false, 7, -3]"),
        ({"a": [1, {"b": None}]}, '{"a"=>[1, {"b"=>nil}]}'),
        ([[], {}], "[[], {}]"),
        ([1.0, 0.1, 100.0, 0.0001, -0.0], "[1.0, 0.1, 100.0, 0.0001, -0.0]"),
        ([1e20, 1e-5, 2.5e-5, 1.5e300], "[1.0e+20, 1.0e-05, 2.5e-05, 1.5e+300]"),
        (
            [123456789012345.0, 1e15, 1234567890123456.0, -1e15],
            "[123456789012345.0, 1.0e+15, 1.234567890123456e+15, -1.0e+15]",
        ),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\n\t\r\f\v\b\a\x1b", '"\\n\\t\\r\\f\\v\\b\\a\\e"'),
        ("\x00\x01\x7f\u2028", '"\\u0000\\u0001\\u007F\\u2028"'),
        ("é ☃ \u00a0\u200b", '"é ☃ \u00a0\u200b"'),
        ("#{x} #$ #@ # {", '"\\#{x} \\#$ \\#@ # {"'),
    ],
)
def test_values_read_as_ruby_inspects_them(value: Any, ruby: str) -> None:
    assert ruby_inspect(value) == ruby
