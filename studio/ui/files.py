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

A file may be offered before it is complete (the Studio writes the stem players' files in the
background after a re-mix, see ``studio/ui/engine.py``): :func:`offer` then takes a ``ready``
event, and :func:`serve` waits for it (asynchronously, so the server keeps answering other
requests) before streaming. A request never sees a half-written file.

The registry is per process (a dict guarded by a lock); tokens are 128-bit random. No
Streamlit here.
"""

from __future__ import annotations

import asyncio
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
    ready: Optional[threading.Event] = None  # set once the file is complete (None: it already is)

    def is_ready(self) -> bool:
        return self.ready is None or self.ready.is_set()


_LOCK = threading.Lock()
_OFFERS: dict[str, Offer] = {}
_GONE: set[str] = set()  # withdrawn tokens: answered 410, not 404


READY_TIMEOUT_S = 600.0  # longest a request waits for a file still being written


def offer(path: Path | str, filename: Optional[str] = None, mime: Optional[str] = None,
          ready: Optional[threading.Event] = None) -> str:
    """Register ``path`` and return its URL (``/studio-files/<token>/<filename>``). With
    ``ready``, the file is still being written: requests wait until the event is set."""
    path = Path(path)
    filename = filename or path.name
    mime = mime or MIMES.get(path.suffix.lower()) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    token = secrets.token_urlsafe(16)
    with _LOCK:
        _OFFERS[token] = Offer(path, filename, mime, ready)
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

    token = request.path_params.get("token", "")
    found = lookup(token)
    waited = 0.0
    while isinstance(found, Offer) and not found.is_ready() and waited < READY_TIMEOUT_S:
        await asyncio.sleep(0.05)  # the file is being written (a stem player after a re-mix)
        waited += 0.05
        found = lookup(token)  # withdrawn meanwhile: 410 below
    if isinstance(found, Offer) and not found.is_ready():
        return PlainTextResponse("this file is still being written; reload the page in a moment", status_code=503)
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


def wait_ready(url: str, timeout_s: float = READY_TIMEOUT_S) -> Offer | str:
    """The offer behind ``url`` once its file is complete (for tests and scripts; the route
    waits by itself), or ``"gone"``/``"unknown"``."""
    found = lookup(token_of(url.split("?")[0]))
    if isinstance(found, Offer) and found.ready is not None:
        found.ready.wait(timeout_s)
    return found


def download_url(url: str) -> str:
    """The same file, sent as an attachment (the browser saves it instead of playing it)."""
    return url + "?download=1"
