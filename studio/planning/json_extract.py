"""Tolerant extraction of one JSON value from a language model's reply.

Small models wrap JSON in prose or code fences, leave trailing commas, use single quotes or
Python literals, forget to quote keys, or stop before closing brackets. :func:`extract_json`
tries, in order: fenced blocks, balanced ``{...}``/``[...]`` spans (closing a truncated one, or
cutting it back to its last complete element),
then the whole text; each as is and then repaired. What it returns is *untrusted*: the
schema check (:mod:`studio.planning.llm_schema`) is strict.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

MAX_REPLY_CHARS = 60_000  # longer replies are cut: a plan never needs more
MAX_STARTS = 6  # how many "{" positions to try before giving up

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\n?(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_\-]*)(\s*:)")
_LINE_COMMENT = re.compile(r"^\s*//.*$", re.M)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


class ExtractionError(ValueError):
    """No JSON value could be read from the reply."""


def _balanced(text: str, start: int) -> list[str]:
    """The bracketed span opening at ``start``. A truncated span (the model ran out of tokens)
    gives two guesses: its brackets closed as it stands, and cut back before its last comma
    (so only complete elements remain) and then closed. When the reply stops inside a string
    (``{"type": "str``) the cut-back guess comes first, so a half-written value is dropped
    rather than read as garbage."""
    stack: list[str] = []
    quote = ""
    escaped = False
    safe: tuple[int, str] | None = None  # (end, closers) of the last cut that leaves valid elements
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack[-1] != ch:
                return [text[start:i]]
            stack.pop()
            if not stack:
                return [text[start : i + 1]]
        elif ch == ",":
            safe = (i, "".join(reversed(stack)))
    closed = text[start:] + quote + "".join(reversed(stack))
    if safe is None:
        return [closed]
    cut = text[start : safe[0]] + safe[1]
    # Cut inside a string (a name or type half written): the cut-back guess is the safer one.
    return [cut, closed] if quote else [closed, cut]


def _single_to_double(text: str) -> str:
    """Re-quote single-quoted strings with double quotes (double-quoted ones are left alone)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == "'":
            j = i + 1
            buf: list[str] = []
            while j < n and text[j] != "'":
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j : j + 2] if text[j + 1] != "'" else "'")
                    j += 2
                    continue
                buf.append('\\"' if text[j] == '"' else text[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _outside_strings(text: str, fix) -> str:
    """Apply ``fix`` to the parts of ``text`` that are not inside double-quoted strings."""
    parts = re.split(r'("(?:\\.|[^"\\])*")', text)
    return "".join(p if k % 2 else fix(p) for k, p in enumerate(parts))


def repair(text: str) -> str:
    """Common near-JSON mistakes fixed: comments, single quotes, Python literals, bare keys,
    trailing commas."""
    text = _BLOCK_COMMENT.sub("", _LINE_COMMENT.sub("", text))
    text = _single_to_double(text)

    def fix(chunk: str) -> str:
        chunk = re.sub(r"\b(True|False|None)\b", lambda m: _PY_LITERALS[m.group(1)], chunk)
        chunk = _BARE_KEY.sub(r'\1"\2"\3', chunk)
        return _TRAILING_COMMA.sub(r"\1", chunk)

    return _outside_strings(text, fix)


def _candidates(text: str) -> Iterator[str]:
    for match in _FENCE.finditer(text):
        yield match.group(1)
    starts = [m.start() for m in re.finditer(r"[{\[]", text)][:MAX_STARTS]
    for start in starts:
        yield from _balanced(text, start)
    yield text


def _loads(text: str) -> Any:
    # NaN/Infinity are not JSON; read them as "missing" so defaults apply.
    return json.loads(text, parse_constant=lambda _c: None)


def extract_json(reply: Any) -> Any:
    """The first JSON value found in ``reply`` (see module doc); :class:`ExtractionError` if none."""
    if not isinstance(reply, str):
        raise ExtractionError(f"expected text from the model, got {type(reply).__name__}")
    text = reply[:MAX_REPLY_CHARS].strip()
    if not text:
        raise ExtractionError("the model returned no text")
    seen: set[str] = set()
    for candidate in _candidates(text):
        candidate = candidate.strip()
        if not candidate or candidate in seen:
            continue
        seen.add(candidate)
        for variant in (candidate, repair(candidate)):
            try:
                value = _loads(variant)
            except (ValueError, RecursionError):
                continue
            if isinstance(value, (dict, list)):
                return value
    raise ExtractionError("no JSON object found in the model's reply")
