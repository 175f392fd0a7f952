"""Credits for the recordings a render used: the manifest's ``credits`` list and CREDITS.txt.

CC BY needs the author's name and the licence next to any published work, so every export
carries them. A credit is the :meth:`studio.sounds.recordings.Recording.credit` dict, gathered
from each stem's metadata (the ``samples`` backend lists the pack recordings it used).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

CREDITS_NAME = "CREDITS.txt"


def collect_credits(metadatas: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each recording once, in the order the layers used them."""
    seen: dict[str, dict[str, str]] = {}
    for meta in metadatas:
        for credit in meta.get("credits", ()) or ():
            seen.setdefault(str(credit.get("recording", credit.get("file"))), dict(credit))
    return list(seen.values())


def credit_line(credit: Mapping[str, str]) -> str:
    """``"rain" by alex36917 (edit: Porrumentzio), CC BY (licence URL), source URL``."""
    return (f"\"{credit['recording']}\" by {credit['author']}, {credit['licence']}"
            f" ({credit['licence_url']}), {credit['source_url']}")


def _md(text: str) -> str:
    """``text`` with Markdown's special characters escaped (author names like ``_jdk_``)."""
    return "".join("\\" + ch if ch in "\\`*_[]<>|~$" else ch for ch in str(text))


def credit_markdown(credit: Mapping[str, str]) -> str:
    """One credit for the page: ``"rain" by alex36917, [CC BY 4.0](licence URL) · [source](URL)``
    (the same facts as :func:`credit_line`, with the links clickable)."""
    licence = _md(credit["licence"])
    if credit.get("licence_url"):
        licence = f"[{licence}]({credit['licence_url']})"
    source = f" · [source]({credit['source_url']})" if credit.get("source_url") else ""
    return f"\"{_md(credit['recording'])}\" by {_md(credit['author'])}, {licence}{source}"


def credits_text(credits: list[Mapping[str, str]], *, title: str = "") -> str:
    """The text of CREDITS.txt: one line per recording, or a sentence saying none was used."""
    head = f"Credits for {title}" if title else "Credits"
    lines = [head, "=" * len(head), ""]
    if not credits:
        lines.append("This soundscape uses no third-party recordings: every layer was synthesised or generated.")
    else:
        lines.append("This soundscape uses these field recordings. When you publish it, keep this list with it")
        lines.append("(CC BY requires the author's name and the licence next to the work):")
        lines.append("")
        lines += [f"- {credit_line(c)}" for c in credits]
    return "\n".join(lines) + "\n"
