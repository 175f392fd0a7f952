"""Seamless beds: exact length, no clicks at loop seams, variation, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import AudioError
from studio.mixing.beds import BedArrangement

SR = 48_000


def _tone_take(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A tonal take whose period does not divide its length: a hard loop would click."""
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * 441.3 * t) + 0.002 * rng.standard_normal(t.size)
    return np.stack([x, np.roll(x, 7)]).astype(np.float32)


def click_score(x: np.ndarray, positions: list[int], radius: int = 2400) -> float:
    """Largest first-difference magnitude near ``positions`` relative to the signal's typical
    (99.9th percentile) first difference: a discontinuity shows up as a spike well above 1."""
    d = np.abs(np.diff(x, axis=1)).max(axis=0)
    typical = np.percentile(d, 99.9)
    worst = 0.0
    for p in positions:
        lo, hi = max(0, p - radius), min(d.size, p + radius)
        worst = max(worst, float(d[lo:hi].max()) / typical)
    return worst


def level_jump_db(x: np.ndarray, positions: list[int], win: int = 960) -> float:
    """Largest change of 20 ms RMS between neighbouring windows around ``positions``."""
    worst = 0.0
    for p in positions:
        w = x[:, max(0, p - 20 * win) : p + 20 * win]
        n = w.shape[1] // win
        rms = np.sqrt(np.mean(w[:, : n * win].reshape(2, n, win) ** 2, axis=(0, 2)))
        db = 20 * np.log10(rms + 1e-9)
        worst = max(worst, float(np.abs(np.diff(db)).max()))
    return worst


def test_bed_has_exact_length_and_no_clicks_at_seams(rng):
    takes = [_tone_take(3.0, rng), _tone_take(2.3, rng)]
    bed = BedArrangement(takes, 40 * SR + 123, seed=3, sample_rate=SR)
    x = bed.render(0, bed.frames)
    assert x.shape == (2, 40 * SR + 123)
    seams = bed.seams()
    assert len(seams) >= 10
    assert click_score(x, seams) < 1.5
    assert level_jump_db(x, seams) < 1.5


def test_hard_loop_is_caught_by_the_click_detector(rng):
    take = _tone_take(3.0, rng)
    hard = np.concatenate([take, take], axis=1)
    assert click_score(hard, [take.shape[1]]) > 3.0


def test_noise_bed_keeps_its_level_across_seams(rng):
    takes = [(0.1 * rng.standard_normal((2, 4 * SR))).astype(np.float32)]
    bed = BedArrangement(takes, 60 * SR, seed=1, sample_rate=SR)
    x = bed.render(0, bed.frames)
    assert level_jump_db(x, bed.seams(), win=4800) < 1.5


def test_bed_varies_takes_and_offsets(rng):
    takes = [_tone_take(6.0, rng), _tone_take(6.0, rng), _tone_take(6.0, rng)]
    bed = BedArrangement(takes, 120 * SR, seed=9, sample_rate=SR)
    segs = bed.segments
    assert {s.take for s in segs} == {0, 1, 2}
    assert all(a.take != b.take for a, b in zip(segs, segs[1:]))
    # Not a fixed period: segment lengths and source offsets vary.
    assert len({s.length for s in segs}) > len(segs) // 2
    assert len({s.src_start for s in segs}) > len(segs) // 2


def test_chunked_render_equals_whole_and_is_deterministic(rng):
    takes = [_tone_take(2.0, rng)]
    a = BedArrangement(takes, 15 * SR, seed=4, sample_rate=SR)
    b = BedArrangement(takes, 15 * SR, seed=4, sample_rate=SR)
    whole = a.render(0, a.frames)
    pieces = np.concatenate([np.array(b.render(s, min(30_001, b.frames - s))) for s in range(0, b.frames, 30_001)], axis=1)
    assert np.array_equal(whole, pieces)
    c = BedArrangement(takes, 15 * SR, seed=5, sample_rate=SR)
    assert [s.src_start for s in c.segments] != [s.src_start for s in a.segments]


def test_correlated_seams_do_not_bump(rng):
    """A pure tone crossfaded into itself: compensation keeps the level flat (no +3 dB)."""
    t = np.arange(4 * SR) / SR
    x = (0.3 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)
    bed = BedArrangement([np.stack([x, x])], 30 * SR, seed=2, sample_rate=SR)
    y = bed.render(0, bed.frames)
    assert level_jump_db(y, bed.seams(), win=4800) < 1.0
    rms = np.sqrt(np.mean(y[:, : (y.shape[1] // 4800) * 4800].reshape(2, -1, 4800) ** 2, axis=(0, 2)))
    assert 20 * np.log10(rms.max() / rms.min()) < 2.0


def test_too_short_take_is_an_audio_error():
    with pytest.raises(AudioError, match="too short to loop"):
        BedArrangement([np.zeros((2, 10), np.float32)], SR, seed=0, sample_rate=SR)


def test_very_short_takes_for_a_long_bed_stay_bounded_and_seamless():
    """50 ms of tonal material for a 10-minute bed: without a bound this needs ~10^4 searched
    seams; the takes are first arranged into longer ones, so the work stays small."""
    from studio.mixing.beds import MAX_SEAMS, expected_seams

    t = np.arange(int(0.05 * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 441.3 * t)
    take = np.stack([tone, np.roll(tone, 7)]).astype(np.float32)
    frames = 10 * 60 * SR
    assert expected_seams([take.shape[1]], frames, SR) > 20 * MAX_SEAMS
    bed = BedArrangement([take], frames, seed=3, sample_rate=SR)
    assert len(bed.segments) <= 2 * MAX_SEAMS  # MAX_SEAMS bounds an estimate
    assert bed.takes[0].shape[1] >= 40 * take.shape[1]
    x = bed.render(0, bed.frames)
    assert x.shape == (2, frames)
    # No clicks anywhere (inner seams included): the largest step is a tone's own largest step.
    d = np.abs(np.diff(x[:, : 60 * SR], axis=1)).max()
    tone_step = 0.3 * 2 * np.pi * 441.3 / SR
    assert d <= 1.1 * tone_step
    # ...and the tone holds its level: no dips or bumps where excerpts overlap.
    rms = np.sqrt(np.mean(x[:, : 60 * SR].reshape(2, -1, 4800) ** 2, axis=(0, 2)))
    assert 20 * np.log10(rms.max() / rms.min()) < 0.5
    assert level_jump_db(x, bed.seams()[:50]) < 1.5
    # Deterministic.
    again = BedArrangement([take], frames, seed=3, sample_rate=SR)
    assert np.array_equal(again.render(12_345_678, 50_000), bed.render(12_345_678, 50_000))


def test_matrixed_takes_render_exactly_like_the_matrix_applied_per_chunk(rng):
    from studio.mixing.pan import apply_matrix, stereo_matrix

    takes = [_tone_take(3.0, rng), _tone_take(2.3, rng)]
    bed = BedArrangement(takes, 40 * SR, seed=3, sample_rate=SR)
    m = stereo_matrix(-4.0, 0.4, 1.6)
    matrixed = [apply_matrix(m, t) for t in bed.takes]
    plain = bed.render(0, bed.frames)
    for start in [0, *bed.seams()[:4]]:
        start = max(0, start - 30_000)
        a = bed.render(start, 60_000, matrix=m)
        b = bed.render(start, 60_000, takes=matrixed)
        assert np.array_equal(a, b)
        assert np.allclose(a, apply_matrix(m, plain[:, start : start + 60_000]), atol=1e-6)
