"""Hostile queue payloads, as raw bytes: what a broken or malicious producer could push to a queue.

:func:`payloads` is a Hypothesis strategy covering bytes that are not UTF-8, text that is not JSON, JSON
that is not an object, objects with a missing or mistyped ``class`` or ``args``, class names that would
be dangerous to import or call (``os.system``, ``builtins.eval``, ``__import__``...), names nobody
registered, nesting 100 to 10,000 deep, lists of up to 200,000 items, ``NaN`` and ``Infinity``, numbers
too large for a float or an int, lone surrogate escapes and control characters. No payload names a
class the workers know, so every one must end in the failed list. :func:`huge_string_payload` is the
64 MB one, which Hypothesis would never draw.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: Names that must never be imported or called because a payload says so.
DANGEROUS = (
    "os.system",
    "os",
    "builtins.eval",
    "eval",
    "exec",
    "__import__",
    "builtins.__import__",
    "subprocess.Popen",
    "subprocess",
    "ctypes",
    "antigravity",
    "this",
    "pickle.loads",
    "importlib.import_module",
    "sys.exit",
    "posix.system",
    "shutil.rmtree",
    "tests.chaos.chaos_jobs.ChaosWork",
    "resque_impl.worker.steps.Worker",
    "Kernel",
    "Object",
    "Admin::MailerJob",
    "::",
    "",
    " ",
)
#: Names the chaos workers have registered: a payload naming one with the right arguments would run.
REGISTERED = frozenset({"ChaosWork", "ChaosSuicide", "ChaosHang", "ChaosLeak", "ChaosHostile", "ChaosModules"})

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=20,
)
_class_names = st.one_of(
    st.sampled_from(DANGEROUS),
    st.text(max_size=40).filter(lambda name: name not in REGISTERED),
    st.from_regex(r"\A[A-Z][A-Za-z0-9]{0,20}(::[A-Z][A-Za-z0-9]{0,20}){0,2}\Z").filter(lambda n: n not in REGISTERED),
)
_not_a_string = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.lists(_json_scalars, max_size=3))
_not_a_list = st.one_of(
    st.dictionaries(st.text(max_size=5), _json_scalars, max_size=3), st.text(max_size=10), st.integers()
)


def _encode(value: Any) -> bytes:
    # allow_nan: NaN and Infinity tokens are exactly what a careless producer writes.
    return json.dumps(value, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def _objects(draw: st.DrawFn) -> bytes:
    body: dict[str, Any] = {}
    choice = draw(st.sampled_from(["name", "mistyped-class", "no-class"]))
    if choice == "name":
        body["class"] = draw(_class_names)
    elif choice == "mistyped-class":
        body["class"] = draw(_not_a_string)
    shape = draw(st.sampled_from(["list", "mistyped-args", "no-args"]))
    if shape == "list":
        body["args"] = draw(st.lists(_json_values, max_size=5))
    elif shape == "mistyped-args":
        body["args"] = draw(_not_a_list)
    body.update(draw(st.dictionaries(st.text(max_size=8), _json_values, max_size=3)))
    return _encode(body)


def _nested(depth: int, as_object: bool) -> bytes:
    inner = b"[" * depth + b"]" * depth
    return b'{"class":"Deep","args":' + inner + b"}" if as_object else inner


def _long_list(items: int) -> bytes:
    return b'{"class":"Long","args":[' + b",".join([b"1"] * items) + b"]}"


_specials = st.one_of(
    st.builds(_nested, st.integers(100, 10_000), st.booleans()),
    st.builds(_long_list, st.integers(1_000, 200_000)),
    st.sampled_from(
        [
            b'{"class":"Nan","args":[NaN]}',
            b'{"class":"Inf","args":[Infinity,-Infinity]}',
            b'{"class":"Overflow","args":[1e999]}',
            b'{"class":"BigInt","args":[' + b"9" * 5000 + b"]}",
            b'{"class":"\\ud800","args":[]}',
            b'{"class":"Lone","args":["\\udc00"]}',
            b'{"class":"Nul\\u0000Name","args":[]}',
            b'{"class":"\xff\xfe","args":[]}',
            b'\xef\xbb\xbf{"class":"Bom","args":[]}',
            b'{"class":"Trailing","args":[]} and more',
            b'{"class":"Unclosed","args":[',
            b"",
            b"null",
            b"[]",
            b'"os.system"',
            b'{"class":"os.system","args":["rm -rf /"]}',
            b'{"class":"builtins.eval","args":["__import__(\'os\').system(\'false\')"]}',
            b'{"class":"__import__","args":["antigravity"]}',
        ]
    ),
)

payloads = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass")),
    _json_values.filter(lambda value: not isinstance(value, dict)).map(_encode),
    _objects(),
    _specials,
)


def huge_string_payload(megabytes: int = 64) -> bytes:
    """A valid payload naming an unknown class whose one argument is a ``megabytes`` MB string."""
    return b'{"class":"Huge","args":["' + b"x" * (megabytes << 20) + b'"]}'
