"""Streamlit widgets shared by the pages: progress with cancel, players, plots, notes."""

from __future__ import annotations

import time
from typing import Any, Optional

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from studio.errors import CancelledError
from studio.ui import plots
from studio.ui.engine import StudioSession

CANCEL_FLAG = "studio.cancel_requested"
MIN_UPDATE_S = 0.15  # progress bars update at most this often (each update is a websocket message)


class StreamlitReporter:
    """Two progress bars (the whole job, and the layer being generated).

    Any user action during a run (the Cancel button above all) makes Streamlit interrupt the
    script at the next element update; that arrives here as a ScriptControlException, which
    is turned into :class:`CancelledError` so the engine stops cleanly and keeps the previous
    result. ``st.session_state[CANCEL_FLAG]`` set before a run cancels it at its first update.
    """

    def __init__(self, title: str = "Generating", layer_bar: bool = True) -> None:
        self._overall = st.progress(0.0, text=f"{title}…")
        self._layer = st.progress(0.0, text="layer") if layer_bar else st.empty()
        self._last = 0.0
        self._last_layer = 0.0

    def _check(self) -> None:
        if st.session_state.get(CANCEL_FLAG):
            st.session_state[CANCEL_FLAG] = False
            raise CancelledError("generation cancelled; the previous result (if any) is unchanged")

    def overall(self, fraction: float, message: str) -> None:
        self._check()
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < MIN_UPDATE_S:
            return
        self._last = now
        try:
            self._overall.progress(min(1.0, max(0.0, float(fraction))), text=f"{message} — {fraction:.0%}")
        except ScriptControlException:
            raise CancelledError("generation cancelled; the previous result (if any) is unchanged") from None

    def layer(self, index: int, count: int, name: str, fraction: float, message: str) -> None:
        self._check()
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_layer < MIN_UPDATE_S:
            return
        self._last_layer = now
        try:
            self._layer.progress(min(1.0, max(0.0, float(fraction))), text=f"layer {index + 1}/{count} · {name}: {message}")
        except ScriptControlException:
            raise CancelledError("generation cancelled; the previous result (if any) is unchanged") from None

    def clear(self) -> None:
        self._overall.empty()
        self._layer.empty()


def cancel_button(key: str) -> None:
    """A Cancel button shown while a run is in progress. Clicking it interrupts the run (see
    :class:`StreamlitReporter`); the next run shows that it was cancelled."""
    st.button("Cancel", key=key, icon=":material/cancel:", help="Stop generating; the previous result is kept")


def cue_label(cue: str, from_file_name: frozenset[str] = frozenset()) -> str:
    """A caption cue for people: a word taken from the image's file name says so."""
    return f"{cue} (from the file name)" if cue in from_file_name else cue


def plain_note(note: str) -> str:
    """A note as a sentence: technical parentheses (scores, ids) left for the details,
    underscores as spaces, a capital first letter and a full stop."""
    import re

    text = re.sub(r"\s*\((?:similarity|score|seed|model|id)[^)]*\)", "", note)
    text = re.sub(r"(?<=[a-z])_(?=[a-z])", " ", text).strip()
    if not text:
        return note
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def show_notes(notes: list[str], details: Optional[list[dict[str, Any]]] = None) -> None:
    """Notes as plain sentences; the notes word for word and ``details`` (which model made
    what) behind a "Technical details" expander."""
    if not notes and not details:
        return
    if notes:
        st.markdown("\n".join(f"- {plain_note(n)}" for n in notes))
    with st.expander("Technical details", icon=":material/info:"):
        for note in notes:
            st.caption(note)
        if details:
            st.dataframe(details, hide_index=True, width="stretch")


def busy_downloads() -> None:
    """Disabled download buttons while a newer render runs (its links stop serving meanwhile)."""
    cols = st.columns(3)
    for col, label in zip(cols, ("Mix", "Stems (zip)", "Manifest")):
        col.button(f"{label}: rendering a newer version…", disabled=True, key=f"studio.busy.{label}", width="stretch")


LINK_STYLE = ("display:block;text-align:center;padding:0.45rem 0.75rem;border-radius:0.5rem;"
              "border:1px solid rgba(250,250,250,0.2);text-decoration:none;color:inherit;")
LINK_LABELS = {"mix": "Mix ({fmt})", "zip": "Stems (zip)", "manifest": "Manifest (JSON)", "mix_loop": "Seamless loop ({fmt})"}


def download_links(links: dict[str, tuple[str, str]], fmt: str) -> None:
    """One link per prepared file; each streams from disk (no copy in the server's memory)."""
    from html import escape

    kinds = [k for k in ("mix", "mix_loop", "zip", "manifest") if k in links]
    for col, kind in zip(st.columns(len(kinds)), kinds):
        url, name = links[kind]
        label = LINK_LABELS[kind].format(fmt=fmt.upper())
        col.markdown(f'<a href="{escape(url)}" download="{escape(name)}" title="{escape(name)}" style="{LINK_STYLE}">↓ {escape(label)}</a>',
                     unsafe_allow_html=True)


def show_credits(scape: Any) -> None:
    """The credits of the real recordings ``scape`` used (the manifest's ``credits``, the same
    list as CREDITS.txt in the export), one line each with licence and source links; nothing
    when every layer was synthesised or generated."""
    from studio.credits import collect_credits, credit_markdown

    credits = collect_credits(stem.metadata for stem in scape.stems)
    if not credits:
        return
    st.markdown("**Credits** · field recordings in this mix (keep these with it when you publish; also in CREDITS.txt)")
    st.markdown("\n".join(f"- {credit_markdown(c)}" for c in credits))


def absolute(url: str) -> str:
    """``st.audio`` plays a URL only when it is absolute: the file route on the host the
    browser uses (``http://localhost`` when there is no browser, as in AppTest)."""
    from urllib.parse import urljoin

    return urljoin(st.context.url or "http://localhost/", url)


def mix_player(sess: StudioSession, label: str = "Mix") -> None:
    scape = sess.soundscape
    assert scape is not None
    st.markdown(f"**{label}** · {scape.duration_s / 60:.1f} min · "
                f"{_fmt(scape.master.get('integrated_lufs'), 'LUFS')} · {_fmt(scape.master.get('true_peak_dbtp'), 'dBTP')}")
    st.audio(absolute(sess.listening().mix_url), format="audio/flac")


def stem_players(sess: StudioSession) -> None:
    """A player per stem, whole length (streamed from the session's folder)."""
    scape = sess.soundscape
    assert scape is not None
    urls = sess.listening().stem_urls
    cols = st.columns(2)
    for i, stem in enumerate(scape.stems):
        with cols[i % 2]:
            what = f"{stem.backend}" + (f" · {stem.model}" if stem.model else "")
            muted = " · muted" if stem.spec.mute else ""
            st.markdown(f"**{stem.spec.name}** ({stem.spec.role}) · {what}{muted}")
            st.audio(absolute(urls[stem.spec.name]), format="audio/flac")


def plots_for(sess: StudioSession) -> None:
    """Waveform and spectrogram of the mix (PNG drawn once per result, from its file)."""
    wave, spec = sess.plot_pngs()
    st.image(wave, width="stretch")
    st.image(spec, width="stretch")


def spectrogram_png(samples: Any, sample_rate: int, title: str = "") -> bytes:
    return plots.figure_png(plots.spectrogram_figure(samples, sample_rate, title=title, height_in=2.0))


def _fmt(value: Optional[float], unit: str) -> str:
    return f"{value:.1f} {unit}" if isinstance(value, (int, float)) else f"— {unit}"
