"""The submitters of a Gradescope export: ``submission_metadata.yml`` read for the names that become the
students' ids (``grader.intake``). A tiny reader of the block YAML Gradescope writes, not a YAML parser."""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger("grader.intake")  # the class's intake reports what it could not read

MAX_METADATA_BYTES = 16 << 20


def submitter_names(metadata: Path) -> dict[str, str]:
    """Gradescope's ``submission_123456`` -> the submitters' names (else email, else SID) joined by ``-``;
    empty without the file. A tiny reader of the block YAML Gradescope writes, not a YAML parser: PyYAML
    is no dependency of the grader (it comes only with the dask extra), and ids must not depend on extras."""
    if not metadata.is_file():
        return {}
    if metadata.stat().st_size > MAX_METADATA_BYTES:
        log.warning("%s: larger than %d MiB, not read; ids are the folder names", metadata, MAX_METADATA_BYTES >> 20)
        return {}
    names = {}
    for submission, people in read_submitters(metadata.read_text(errors="replace")).items():
        who = [p.get("name") or p.get("email") or p.get("sid") for p in people]
        if any(who):
            names[submission] = "-".join(w for w in who if w)
    if not names:
        log.warning("%s: no submitters found; ids are the folder names", metadata)
    return names


def read_submitters(text: str) -> dict[str, list[dict[str, str]]]:
    """``{top-level key: [{name, sid, email}, ...]}`` from the ``:submitters:`` list directly under each
    top-level key (a ``:submitters:`` deeper down, in a history say, is not that submission's)."""
    found: dict[str, list[dict[str, str]]] = {}
    current: str | None = None
    child: int | None = None  # indentation of the current key's own keys
    block: int | None = None  # indentation of its ":submitters:" key, while inside that list
    item: int | None = None   # indentation of the current submitter's keys
    for line in text.splitlines():
        body = line.strip()
        if not body or body.startswith("#") or body == "---":
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            current = _scalar(body[:-1]) if body.endswith(":") else None
            child = block = None
            continue
        if current is None:
            continue
        child = indent if child is None else child
        if block is not None:
            if (body == "-" or body.startswith("- ")) and indent >= block:
                found[current].append({})
                body, indent = body[1:].strip(), indent + 2
                item = indent
            if indent == item and found[current] and (pair := _pair(body)):
                found[current][-1][pair[0]] = pair[1]
            if indent > block:
                continue
            block = None
        if indent == child and _pair(body) == ("submitters", "") and current not in found:
            block, item = indent, None
            found[current] = []
    return found


def _pair(body: str) -> tuple[str, str] | None:
    """``:name: Ada Lovelace`` -> ``("name", "Ada Lovelace")`` (a Ruby symbol's colon dropped)."""
    match = re.match(r"^:?([A-Za-z_][A-Za-z0-9_]*):(?:\s+(.*))?$", body)
    return (match[1], _scalar(match[2] or "")) if match else None


def _scalar(text: str) -> str:
    """A YAML scalar as text: quotes removed (``''`` and backslash escapes undone), a comment dropped."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|.)", _unescape, text[1:-1])
    return "" if text in ("~", "null") else re.sub(r"\s+#.*$", "", text)


def _unescape(match: re.Match) -> str:
    code = match[1]
    if code[0] in "xu" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "t": "\t", "0": "\0"}.get(code, code)
