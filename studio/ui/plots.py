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
    from matplotlib.figure import Figure

    lo, hi = waveform_envelope(samples)
    duration = np.asarray(samples).shape[-1] / sample_rate
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
    from matplotlib.figure import Figure

    times, freqs, power_db = spectrogram_db(samples, sample_rate)
    duration = np.asarray(samples).shape[-1] / sample_rate
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
