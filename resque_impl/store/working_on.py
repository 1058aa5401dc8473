"""The working-on record a worker writes while it runs a job, byte for byte as Ruby Resque writes it:
built here for :class:`~resque_impl.store.memory.MemoryStore`, and by :data:`LUA_JSON` inside the fetch
script."""

from __future__ import annotations

import re

__all__ = ["LUA_JSON", "encode_working_on", "json_string"]


_SHORT_ESCAPES = {
    ord('"'): b'\\"',
    ord("\\"): b"\\\\",
    ord("\b"): b"\\b",
    ord("\f"): b"\\f",
    ord("\n"): b"\\n",
    ord("\r"): b"\\r",
    ord("\t"): b"\\t",
}
_NEEDS_ESCAPE = re.compile(rb'[\x00-\x1f"\\]')


def _escape(match: re.Match[bytes]) -> bytes:
    code = match.group()[0]
    return _SHORT_ESCAPES.get(code) or b"\\u%04x" % code


def json_string(text: bytes) -> bytes:
    """``text`` as a JSON string, byte for byte as the Lua scripts write it (only ``"``, ``\\`` and
    control characters escaped; other bytes, UTF-8 included, kept)."""
    return b'"' + _NEEDS_ESCAPE.sub(_escape, text) + b'"'


def _payload_json(payload: bytes) -> bytes:
    # Embedded as is when it has the shape of a JSON object; checking it fully would cost a JSON parse
    # per job (in Lua, on the server) only to protect a record that lives for the length of one job.
    if payload.startswith(b"{") and payload.endswith(b"}"):
        return payload
    return json_string(payload)


def encode_working_on(queue: str, run_at: str, payload: bytes) -> bytes:
    """The working-on record ``{"queue":..,"run_at":..,"payload":{..}}`` as Ruby Resque writes it."""
    return (
        b'{"queue":'
        + json_string(queue.encode())
        + b',"run_at":"'
        + run_at.encode()
        + b'","payload":'
        + _payload_json(payload)
        + b"}"
    )


LUA_JSON = r"""
local short = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
               ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
local function json_string(text)
  return '"' .. (string.gsub(text, '[%c"\\]', function(c)
    local code = string.byte(c)
    if code == 127 then return c end
    return short[c] or string.format('\\u%04x', code)
  end)) .. '"'
end
local function payload_json(payload)
  if string.sub(payload, 1, 1) == '{' and string.sub(payload, -1) == '}' then return payload end
  return json_string(payload)
end
"""
