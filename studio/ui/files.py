"""Files served from disk: players and downloads of any length without Streamlit's in-memory
media store.

Streamlit's ``st.audio``/``st.download_button`` copy their data into an in-memory store: a
60-minute WAV is 1 GB there per click, and a deferred download whose button was redrawn in the
meantime fails with ``MediaFileStorageError: Deferred file … not found``. Instead, a session
writes its audio to its own folder and *offers* each file here: :func:`offer` returns a URL
under :data:`ROUTE` with an unguessable token, and :func:`serve` (a Starlette route mounted by
``streamlit_app.py`` through ``st.App``) streams the file from disk with HTTP range support
(players seek; nothing is held in memory). :func:`withdraw` takes a URL back, so a link drawn
for an older render never serves a stale file: it answers 410 "a newer render replaced this
file".

The registry is per process (a dict guarded by a lock); tokens are 128-bit random. No
Streamlit here.
"""

from __future__ import annotations

import mimetypes
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import quote

ROUTE = "/studio-files"
GONE_MESSAGE = "a newer render replaced this file; download it again from the page"
MIMES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".zip": "application/zip",
    ".json": "application/json",
    ".png": "image/png",
}


@dataclass(frozen=True)
class Offer:
    """One file on offer: where it is on disk, the name the browser saves it under, its type."""

    path: Path
    filename: str
    mime: str


_LOCK = threading.Lock()
_OFFERS: dict[str, Offer] = {}
_GONE: set[str] = set()  # withdrawn tokens: answered 410, not 404


def offer(path: Path | str, filename: Optional[str] = None, mime: Optional[str] = None) -> str:
    """Register ``path`` and return its URL (``/studio-files/<token>/<filename>``)."""
    path = Path(path)
    filename = filename or path.name
    mime = mime or MIMES.get(path.suffix.lower()) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    token = secrets.token_urlsafe(16)
    with _LOCK:
        _OFFERS[token] = Offer(path, filename, mime)
    return f"{ROUTE}/{token}/{quote(filename)}"


def token_of(url: str) -> str:
    parts = url.split("/")
    return parts[-2] if len(parts) >= 2 else ""


def withdraw(urls: Iterable[str]) -> None:
    """Take these URLs back: later requests get 410 with :data:`GONE_MESSAGE`."""
    with _LOCK:
        for url in urls:
            token = token_of(url)
            if _OFFERS.pop(token, None) is not None:
                _GONE.add(token)


def lookup(token: str) -> Offer | str:
    """The offer behind ``token``, or the reason there is none (``"gone"`` or ``"unknown"``)."""
    with _LOCK:
        found = _OFFERS.get(token)
        if found is not None:
            return found
        return "gone" if token in _GONE else "unknown"


async def serve(request: Any) -> Any:
    """Starlette endpoint: the offered file, streamed from disk with range support."""
    from starlette.responses import FileResponse, PlainTextResponse

    found = lookup(request.path_params.get("token", ""))
    if found == "gone":
        return PlainTextResponse(GONE_MESSAGE, status_code=410)
    if not isinstance(found, Offer) or not found.path.is_file():
        return PlainTextResponse("no such file; it was removed or the session ended", status_code=404)
    disposition = "attachment" if request.query_params.get("download") else "inline"
    return FileResponse(found.path, media_type=found.mime, filename=found.filename, content_disposition_type=disposition)


def routes() -> list[Any]:
    """The Starlette routes ``streamlit_app.py`` mounts with ``st.App(..., routes=...)``."""
    from starlette.routing import Route

    return [Route(ROUTE + "/{token}/{name:path}", serve, methods=["GET", "HEAD"])]


def download_url(url: str) -> str:
    """The same file, sent as an attachment (the browser saves it instead of playing it)."""
    return url + "?download=1"
