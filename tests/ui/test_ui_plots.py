"""Waveform envelope and spectrogram reductions are right for any length."""

from __future__ import annotations

import numpy as np

from studio.ui import plots


def test_envelope_bounds_the_signal():
    sr = 48_000
    t = np.arange(sr * 2) / sr
    x = np.stack([0.5 * np.sin(2 * np.pi * 5 * t)] * 2).astype(np.float32)
    lo, hi = plots.waveform_envelope(x, bins=100)
    assert lo.shape == hi.shape == (100,)
    assert np.all(lo <= hi) and np.isclose(hi.max(), 0.5, atol=1e-3) and np.isclose(lo.min(), -0.5, atol=1e-3)


def test_spectrogram_peak_at_the_tone_and_columns_capped():
    sr = 48_000
    t = np.arange(sr * 60) / sr
    x = (0.25 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[None, :]
    times, freqs, power_db = plots.spectrogram_db(x, sr, columns=200)
    assert power_db.shape == (freqs.size, times.size) and times.size <= 200
    peak = freqs[np.argmax(power_db.mean(axis=1))]
    assert abs(peak - 1000) < sr / 2048
    # A full-scale-referenced level: a 0.25 sine is about -12 dBFS + window loss.
    assert -20 < power_db.max() < -5
    assert times[-1] <= 60.0 + 1e-6


def test_figures_render_to_png():
    sr = 8000
    x = np.random.default_rng(0).normal(0, 0.1, (2, sr * 3)).astype(np.float32)
    png = plots.figure_png(plots.spectrogram_figure(x, sr, title="t"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert plots.figure_png(plots.waveform_figure(x, sr))[:4] == b"\x89PNG"


def test_time_ticks_are_whole_seconds_so_labels_are_exact():
    assert plots.tick_step_s(20) == 2 and plots.tick_step_s(30) == 5 and plots.tick_step_s(600) == 60
    assert plots.tick_step_s(3600) == 600 and plots.tick_step_s(5) == 1
    fig = plots.waveform_figure(np.zeros((2, 8000 * 25), np.float32), 8000)
    fig.canvas.draw() if hasattr(fig, "canvas") else None
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticks() if 0 <= t <= 25]
    labels = [ax.xaxis.get_major_formatter()(t, i) for i, t in enumerate(ticks)]
    assert labels == ["0:00", "0:05", "0:10", "0:15", "0:20", "0:25"]
    # Drawn in the dark theme's colours, not as a white box.
    assert fig.get_facecolor()[:3] == tuple(int(plots.FIG_BG[i:i + 2], 16) / 255 for i in (1, 3, 5))
