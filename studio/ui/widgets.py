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

    def __init__(self, title: str = "Generating") -> None:
        self._overall = st.progress(0.0, text=f"{title}…")
        self._layer = st.progress(0.0, text="layer")
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


def show_notes(notes: list[str]) -> None:
    """Fallback notes: which neural model was missing and what the studio used instead."""
    for note in notes:
        st.info(note, icon=":material/info:")


def mix_player(sess: StudioSession, label: str = "Mix") -> None:
    scape = sess.soundscape
    assert scape is not None
    st.markdown(f"**{label}** · {scape.duration_s / 60:.1f} min · "
                f"{_fmt(scape.master.get('integrated_lufs'), 'LUFS')} · {_fmt(scape.master.get('true_peak_dbtp'), 'dBTP')}")
    data, mime = sess.mix_player()
    st.audio(data, format=mime)


def stem_players(sess: StudioSession) -> None:
    scape = sess.soundscape
    assert scape is not None
    cols = st.columns(2)
    for i, stem in enumerate(scape.stems):
        data, seconds = sess.stem_wav(stem.spec.name)
        with cols[i % 2]:
            what = f"{stem.backend}" + (f" · {stem.model}" if stem.model else "")
            short = "" if seconds >= scape.duration_s - 1e-6 else f" · first {seconds / 60:.0f} min"
            muted = " · muted" if stem.spec.mute else ""
            st.markdown(f"**{stem.spec.name}** ({stem.spec.role}) · {what}{short}{muted}")
            st.audio(data, format="audio/wav")


def plots_for(sess: StudioSession) -> None:
    """Waveform and spectrogram of the mix (PNG rendered once per result)."""
    scape = sess.soundscape
    assert scape is not None

    def make() -> tuple[bytes, bytes]:
        samples = sess.mix_samples()
        return (
            plots.figure_png(plots.waveform_figure(samples, scape.sample_rate, title="Waveform (mix)")),
            plots.figure_png(plots.spectrogram_figure(samples, scape.sample_rate, title="Spectrogram (mix)")),
        )

    wave, spec = sess._cached("plots", make)
    st.image(wave, width="stretch")
    st.image(spec, width="stretch")


def spectrogram_png(samples: Any, sample_rate: int, title: str = "") -> bytes:
    return plots.figure_png(plots.spectrogram_figure(samples, sample_rate, title=title, height_in=2.0))


def _fmt(value: Optional[float], unit: str) -> str:
    return f"{value:.1f} {unit}" if isinstance(value, (int, float)) else f"— {unit}"
