"""Ruby's ``inspect`` of JSON values, for messages that must read exactly as Ruby Resque writes them.

Ruby Resque quotes a job's arguments with ``Array#inspect`` in some messages (a failure hook's error
names the job as ``(Job{queue} | Class | ["a", 1])``); :func:`ruby_inspect` writes any value JSON can
decode to the same text Ruby 3.1 would: ``nil``, ``{"a"=>1}``, ``1.0e+20``, ``"\\e"``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["ruby_inspect"]

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\f": "\\f",
    "\v": "\\v",
    "\b": "\\b",
    "\a": "\\a",
    "\x1b": "\\e",
}
# Characters Ruby does not print as they are (controls, line and paragraph separators, and code points
# that are not characters); every other character, even a zero-width one, is written raw.
_UNPRINTABLE = frozenset({"Cc", "Zl", "Zp", "Cs", "Cn"})


def _string(text: str) -> str:
    out = ['"']
    for index, char in enumerate(text):
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char == "#" and text[index + 1 : index + 2] in ("{", "$", "@"):
            out.append("\\#")  # what would start an interpolation in a Ruby literal
        elif unicodedata.category(char) in _UNPRINTABLE:
            code = ord(char)
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\u{{{code:X}}}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _float(number: float) -> str:
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exponent}"
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    # Ruby writes an exponent from 1e15 up, one power of ten before Python does.
    if len(whole) < 16:
        return text
    significant = (whole + fraction).rstrip("0")
    return f"{sign}{significant[0]}.{significant[1:] or '0'}e+{len(whole) - 1:02d}"


def ruby_inspect(value: Any) -> str:
    """``value.inspect`` as Ruby 3.1 writes it, for the values JSON decodes to."""
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{ruby_inspect(key)}=>{ruby_inspect(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(ruby_inspect(item) for item in value) + "]"
    return _string(str(value))
