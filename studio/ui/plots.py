"""Waveform and spectrogram figures (matplotlib, Agg) for any length of audio.

Both reduce the audio before drawing, so a 60-minute track plots as fast as a 30-second one:
the waveform draws a min/max envelope over ``bins`` columns; the spectrogram averages power
over non-overlapping STFT frames into at most ``columns`` time columns.
"""

from __future__ import annotations

import numpy as np

WAVE_BINS = 1200
SPEC_COLUMNS = 600
SPEC_NFFT = 2048
FRAMES_PER_COLUMN = 4


def waveform_envelope(samples: np.ndarray, bins: int = WAVE_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin (min, max) of the mono downmix of float32 ``(channels, frames)`` audio."""
    mono = np.asarray(samples, np.float32)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    if mono.size == 0:
        return np.zeros(1, np.float32), np.zeros(1, np.float32)
    bins = max(1, min(bins, mono.size))
    usable = mono[: mono.size - mono.size % bins] if mono.size >= bins else mono
    blocks = usable.reshape(bins, -1)
    return blocks.min(axis=1), blocks.max(axis=1)


def spectrogram_db(samples: np.ndarray, sample_rate: int, *, columns: int = SPEC_COLUMNS, n_fft: int = SPEC_NFFT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(times_s, freqs_hz, power_db)`` with power_db shaped ``(freqs, columns)``.

    Frames are non-overlapping Hann windows; each column averages the power of up to
    :data:`FRAMES_PER_COLUMN` evenly spaced frames of its stretch, so the whole track fits
    ``columns`` columns at a bounded cost. Power is in dB relative to full scale (floor -120).
    """
    mono = np.asarray(samples, np.float32)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    return _spectrogram_from(mono, sample_rate, columns=columns, n_fft=n_fft)


def _spectrogram_from(mono, sample_rate: int, *, columns: int = SPEC_COLUMNS, n_fft: int = SPEC_NFFT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`spectrogram_db` of a mono signal given as anything with ``size`` and slices."""
    total = max(1, mono.size // n_fft)
    # Long tracks: analyse at most FRAMES_PER_COLUMN evenly spaced frames per column instead
    # of every frame (a 60-minute track would otherwise need 84k FFTs for 600 columns).
    group = max(1, int(np.ceil(total / columns)))
    per_col = min(group, FRAMES_PER_COLUMN)
    n_cols = int(np.ceil(total / group))
    starts = (np.arange(n_cols)[:, None] * group + np.linspace(0, group - 1, per_col).astype(int)[None, :]).ravel()
    starts = np.minimum(starts, total - 1) * n_fft
    frames = np.zeros((starts.size, n_fft), np.float32)
    for i, s0 in enumerate(starts):
        chunk = mono[s0 : s0 + n_fft]
        frames[i, : chunk.size] = chunk
    window = np.hanning(n_fft).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2 / (window.sum() ** 2 / 4)
    power = power.reshape(n_cols, per_col, power.shape[1]).mean(axis=1)
    power_db = 10 * np.log10(np.maximum(power, 1e-12)).T
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    times = np.minimum((np.arange(n_cols) + 0.5) * group * n_fft, mono.size) / sample_rate
    return times, freqs, np.maximum(power_db, -120.0)


# Colours of .streamlit/config.toml's dark theme, so the figures sit in the page instead of
# showing as white boxes (secondary background, text colour, grid).
FIG_BG = "#1e2130"
FIG_FG = "#e6e8f0"
FIG_GRID = "#3a3f55"


def _themed(fig, *axes) -> None:
    fig.set_facecolor(FIG_BG)
    for ax in axes:
        ax.set_facecolor(FIG_BG)
        ax.tick_params(colors=FIG_FG, which="both")
        ax.xaxis.label.set_color(FIG_FG)
        ax.yaxis.label.set_color(FIG_FG)
        ax.title.set_color(FIG_FG)
        for spine in ax.spines.values():
            spine.set_color(FIG_GRID)


TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)


def tick_step_s(duration_s: float, max_ticks: int = 10) -> int:
    """A whole-second tick spacing (1 s .. 30 min) giving at most ``max_ticks`` intervals, so
    m:ss labels are exact (2.5 s ticks would print as 0:02, 0:05, 0:07)."""
    return next((s for s in TICK_STEPS_S if duration_s / s <= max_ticks), TICK_STEPS_S[-1])


def _time_axis(ax, duration_s: float) -> None:
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.set_xlim(0, max(duration_s, 1e-3))
    ax.xaxis.set_major_locator(MultipleLocator(tick_step_s(duration_s)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(round(v)) // 60}:{int(round(v)) % 60:02d}"))
    ax.set_xlabel("time (m:ss)")


def waveform_figure(samples: np.ndarray, sample_rate: int, *, title: str = "", height_in: float = 1.8):
    """A matplotlib Figure of the waveform envelope (amplitude -1..1 over time)."""
    lo, hi = waveform_envelope(samples)
    return _waveform_figure(lo, hi, np.asarray(samples).shape[-1] / sample_rate, title, height_in)


def _waveform_figure(lo: np.ndarray, hi: np.ndarray, duration: float, title: str, height_in: float):
    from matplotlib.figure import Figure

    t = np.linspace(0, duration, lo.size)
    fig = Figure(figsize=(8, height_in), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.fill_between(t, lo, hi, color="#5b8def", linewidth=0)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("amplitude")
    _time_axis(ax, duration)
    if title:
        ax.set_title(title, fontsize=9)
    _themed(fig, ax)
    return fig


def spectrogram_figure(samples: np.ndarray, sample_rate: int, *, title: str = "", height_in: float = 2.4):
    """A matplotlib Figure of the spectrogram, log-frequency 30 Hz .. Nyquist, dBFS colours."""

    times, freqs, power_db = spectrogram_db(samples, sample_rate)
    return _spectrogram_figure(times, freqs, power_db, np.asarray(samples).shape[-1] / sample_rate, sample_rate, title, height_in)


def _spectrogram_figure(times, freqs, power_db, duration: float, sample_rate: int, title: str, height_in: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, height_in), dpi=100, layout="constrained")
    ax = fig.subplots()
    top = float(power_db.max()) if power_db.size else 0.0
    keep = freqs >= 30
    mesh = ax.pcolormesh(times, freqs[keep], power_db[keep], shading="auto", cmap="magma", vmin=top - 90, vmax=top)
    ax.set_yscale("log")
    ax.set_ylim(30, sample_rate / 2)
    ax.set_ylabel("Hz")
    _time_axis(ax, duration)
    bar = fig.colorbar(mesh, ax=ax, label="dB", pad=0.01)
    if title:
        ax.set_title(title, fontsize=9)
    _themed(fig, ax, bar.ax)
    bar.outline.set_edgecolor(FIG_GRID)
    return fig


def figure_png(fig) -> bytes:
    """PNG bytes of a Figure (rendered once and cached by the page, not redrawn on reruns)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    return buf.getvalue()


class _FileMono:
    """The mono downmix of an audio file, read on demand: ``size`` frames, ``[a:b]`` slices.
    :func:`spectrogram_db` only reads the few STFT frames it averages."""

    ndim = 1

    def __init__(self, sf_file) -> None:
        self._f = sf_file
        self.size = sf_file.frames

    def __getitem__(self, s: slice) -> np.ndarray:
        self._f.seek(s.start)
        return self._f.read(s.stop - s.start, dtype="float32", always_2d=True).mean(axis=1)

    def mean(self, axis: int = 0):  # already mono
        return self

    def __array__(self, dtype=None, copy=None):  # never materialised
        raise TypeError("read slices of _FileMono, not the whole file")


def file_pngs(path, *, title: str = "mix", block_frames: int = 1 << 18) -> tuple[bytes, bytes]:
    """Waveform and spectrogram PNGs of an audio file of any length, read in blocks (memory:
    one block, never the whole track)."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        sr, total = f.samplerate, f.frames
        bins = max(1, min(WAVE_BINS, total))
        per_bin = total / bins
        lo = np.full(bins, np.inf, np.float32)
        hi = np.full(bins, -np.inf, np.float32)
        start = 0
        for block in f.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
            mono = block.mean(axis=1)
            idx = np.minimum(((start + np.arange(mono.size)) / per_bin).astype(np.int64), bins - 1)
            cuts = np.flatnonzero(np.diff(idx)) + 1  # where a new bin starts inside this block
            heads = np.concatenate(([0], cuts))
            which = idx[heads]
            lo[which] = np.minimum(lo[which], np.minimum.reduceat(mono, heads))
            hi[which] = np.maximum(hi[which], np.maximum.reduceat(mono, heads))
            start += mono.size
        lo[~np.isfinite(lo)] = 0.0
        hi[~np.isfinite(hi)] = 0.0
        times, freqs, power_db = _spectrogram_from(_FileMono(f), sr)
    duration = total / sr
    return (
        figure_png(_waveform_figure(lo, hi, duration, f"Waveform ({title})", 1.8)),
        figure_png(_spectrogram_figure(times, freqs, power_db, duration, sr, f"Spectrogram ({title})", 2.4)),
    )
