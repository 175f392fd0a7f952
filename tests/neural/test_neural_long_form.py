"""Long clips by continuation (studio.generation.long_form) and MusicGen beyond its window.

- Tempo detection finds tempo and downbeat of accented click tracks (seeds 0..31) and no tempo
  in noise (seeds 0..31).
- Window assembly from model callbacks gives exactly the frames asked for, up to 60 minutes,
  and cross-fades on bar lines when there is a beat.
- The tiny MusicGen makes three times its window in one ``generate`` call: full length,
  continuous seams, window/stride/overlap in the metadata, progress across all windows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.errors import InputError
from studio.generation import BACKENDS
from studio.generation.long_form import continue_windows, detect_tempo, plan_windows, seam_fade


def click_track(bpm: float, seconds: float, rate: int, *, seed: int, first_downbeat_s: float,
                noise: float = 0.05) -> np.ndarray:
    """Noise bursts on every beat, the first of each bar (4 beats) 2.5x louder, over noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, noise, int(seconds * rate)).astype(np.float32)
    burst = (np.exp(-np.arange(int(0.03 * rate)) / (0.005 * rate)) * rng.normal(0, 1, int(0.03 * rate))).astype(np.float32)
    beat = 60.0 / bpm
    # beats before the first downbeat too, so the grid covers the whole track
    k0 = -int(first_downbeat_s // beat)
    k = k0
    while (t := first_downbeat_s + k * beat) < seconds - 0.05:
        i = int(t * rate)
        x[i:i + burst.size] += (1.0 if k % 4 == 0 else 0.4) * burst
        k += 1
    return x


def _phase_error(t: float, origin: float, period: float) -> float:
    return ((t - origin + period / 2) % period) - period / 2


@pytest.mark.parametrize("seed", range(32))
def test_tempo_and_downbeat_of_click_tracks(seed):
    rng = np.random.default_rng(1000 + seed)
    bpm = float(rng.uniform(70, 160))
    downbeat = float(rng.uniform(0, 4 * 60 / bpm))
    tempo = detect_tempo(click_track(bpm, 12.0, 32000, seed=seed, first_downbeat_s=downbeat), 32000)
    assert tempo is not None
    assert tempo.bpm == pytest.approx(bpm, rel=0.02)
    assert abs(_phase_error(tempo.downbeat_s, downbeat, tempo.bar_s)) < 0.03  # within 30 ms of a bar line


def test_no_tempo_in_noise_or_short_audio():
    for seed in range(32):
        noise = np.random.default_rng(seed).normal(0, 0.2, 12 * 32000).astype(np.float32)
        assert detect_tempo(noise, 32000) is None
    assert detect_tempo(click_track(120, 3.0, 32000, seed=0, first_downbeat_s=0.1), 32000) is None  # < 4 s


def test_seam_fade_sits_on_a_bar_line_or_ends_the_overlap():
    rate = 16000
    tempo = detect_tempo(click_track(120, 10.0, rate, seed=3, first_downbeat_s=0.25), rate)
    assert tempo is not None
    # bar lines at 0.25 + 2k s. Overlap 5.3..8.5 s: a one-beat fade fits around 8.25 s;
    # overlap 5.3..8.4 s: 8.25 s is too close to the end, so the bar line at 6.25 s
    for overlap_s, bar_line_s in ((3.2, 8.25), (3.1, 6.25)):
        start, length, on_bar = seam_fade(int(5.3 * rate), int(overlap_s * rate), rate, tempo)
        assert on_bar and length == pytest.approx(0.5 * rate, abs=rate * 0.01)
        assert (int(5.3 * rate) + start + length / 2) / rate == pytest.approx(bar_line_s, abs=0.03)
    # no tempo: the last half of the overlap
    assert seam_fade(100, 1000, rate, None) == (500, 500, False)


class MetronomeModel:
    """A stand-in for a continuing model: the click track at absolute time; a continuation
    re-encodes its prompt (the prompt plus a little noise) and then continues the track."""

    def __init__(self, track: np.ndarray, hop: int, batch: int = 1) -> None:
        self.track, self.hop, self.batch, self.made = track, hop, batch, 0
        self.rng = np.random.default_rng(0)

    def _at(self, start: int, stop: int) -> np.ndarray:
        part = self.track[start:stop]
        part = np.pad(part, (0, stop - start - part.size))
        return np.broadcast_to(part, (self.batch, 1, part.size)).copy()

    def first(self, frames: int) -> np.ndarray:
        self.made = frames * self.hop
        return self._at(0, self.made)

    def extend(self, prompt: np.ndarray, new_frames: int) -> np.ndarray:
        new = self._at(self.made, self.made + new_frames * self.hop)
        self.made += new_frames * self.hop
        return np.concatenate([prompt + self.rng.normal(0, 0.01, prompt.shape), new], axis=-1)


def test_windows_cross_fade_on_bar_lines_and_stay_continuous():
    rate, hop, bpm, downbeat = 16000, 320, 96.0, 0.4
    track = click_track(bpm, 45.0, rate, seed=5, first_downbeat_s=downbeat)
    plan = plan_windows(40.0, 8.0, rate / hop)
    assert (plan.window_frames, plan.overlap_frames, plan.stride_frames, plan.windows) == (400, 160, 240, 8)
    model = MetronomeModel(track, hop)
    audio, info = continue_windows(plan, hop=hop, sample_rate=rate, total_samples=40 * rate,
                                   first=model.first, extend=model.extend)
    assert audio.shape == (1, 1, 40 * rate)
    assert (info["window_s"], info["stride_s"], info["overlap_s"], info["windows"]) == (8.0, 4.8, 3.2, 8)
    bar_s = 4 * 60.0 / bpm
    assert len(info["seams_s"]) == 7 and all(info["on_bar"])
    for seam in info["seams_s"]:
        assert abs(_phase_error(seam, downbeat, bar_s)) < 0.03
    assert all(t == pytest.approx(bpm, rel=0.02) for t in info["tempo_bpm"])
    # the assembled track is the original one (no gaps, no doubled audio, no shift)
    np.testing.assert_allclose(audio[0, 0], track[:40 * rate], atol=0.06)  # the re-encoding noise is 0.01 rms


def test_an_hour_assembles_to_exactly_an_hour():
    rate, hop = 2000, 40  # 50 frames/s, as MusicGen (a low rate keeps the hour small)
    model = MetronomeModel(np.random.default_rng(0).normal(0, 0.1, 10).astype(np.float32), hop, batch=2)
    plan = plan_windows(3600.0, 30.0, rate / hop)
    assert (plan.windows, plan.stride_frames) == (1 + math.ceil((180000 - 1500) / 900), 900)
    audio, info = continue_windows(plan, hop=hop, sample_rate=rate, total_samples=3600 * rate,
                                   first=model.first, extend=model.extend)
    assert audio.shape == (2, 1, 3600 * rate) and len(info["seams_s"]) == plan.windows - 1
    with pytest.raises(InputError, match=r"duration_s must be in \(0, 3600\]"):
        plan_windows(3600.5, 30.0, 50.0)


def _steps_at_seams(samples: np.ndarray, meta: dict, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """|sample-to-sample change| inside the cross-fades (+-5 ms) and everywhere else."""
    steps = np.abs(np.diff(samples, axis=1))
    seam = np.zeros(steps.shape[1], dtype=bool)
    for centre, fade in zip(meta["seams_s"], meta["crossfade_s"]):
        seam[int((centre - fade / 2 - 0.005) * rate):int((centre + fade / 2 + 0.005) * rate)] = True
    return steps[:, seam], steps[:, ~seam]


@pytest.mark.parametrize("fixture, seeds", [("musicgen_mono", range(4)), ("musicgen_stereo", range(2))])
def test_musicgen_makes_three_windows_in_one_call(fixture, seeds, request, no_resident_model):
    backend = BACKENDS.create("musicgen", model_id=str(request.getfixturevalue(fixture)))
    window = backend.max_clip_s  # 0.88 s: (48 positions - 3 delay - 1) / 50 frames/s
    for seed in seeds:
        seen = []
        clip = backend.generate("soft rain", duration_s=3 * window, seed=seed, progress=lambda f, m: seen.append((f, m)))
        assert clip.samples.shape == (backend.channels, int(round(3 * window * 32000)))
        assert np.isfinite(clip.samples).all() and np.abs(clip.samples[:, -3200:]).max() > 0  # audio to the end
        meta = backend.metadata("soft rain")
        assert "clamped_from_s" not in meta and meta["long_form"] == "continuation"
        # 44-frame windows, 18 frames of prompt, 26 new frames each: 1 + ceil((132 - 44) / 26) = 5
        assert (meta["window_s"], meta["overlap_s"], meta["stride_s"], meta["windows"]) == (0.88, 0.36, 0.52, 5)
        assert len(meta["seams_s"]) == 4 and meta["tempo_bpm"] == [None] * 4  # under 4 s: no tempo
        at_seams, elsewhere = _steps_at_seams(clip.samples, meta, 32000)
        typical = np.percentile(elsewhere, 99.9)
        assert at_seams.max() <= 1.25 * typical, (seed, at_seams.max(), typical)
        assert np.median(at_seams) == pytest.approx(np.median(elsewhere), rel=0.25)
        # one progress report per decoded token frame over all windows (132 frames + 5 x 3 delay)
        assert len([m for _, m in seen if "step" in m]) == 132 + 5 * 3
        fractions = [f for f, _ in seen]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
    again = backend.generate("soft rain", duration_s=3 * window, seed=seeds[-1])
    assert np.array_equal(again.samples, clip.samples)  # the whole continuation is seeded


def test_musicgen_lengths_past_the_window_are_exact_and_an_hour_is_the_limit(musicgen_mono, no_resident_model):
    backend = BACKENDS.create("musicgen", model_id=str(musicgen_mono))
    for duration_s in (0.9, 1.37, 2.001):
        assert backend.generate("wind", duration_s=duration_s, seed=1).frames == int(round(duration_s * 32000))
    assert backend.metadata("wind", duration_s=3600.0)["windows"] == 1 + math.ceil((180000 - 44) / 26)
    with pytest.raises(InputError, match="at most|3600"):
        backend.generate("wind", duration_s=3601.0, seed=1)


def test_musicgen_prompt_batch_makes_distinct_reproducible_takes(musicgen_mono, no_resident_model):
    from studio.generation.candidates import generate_takes

    backend = BACKENDS.create("musicgen", model_id=str(musicgen_mono))
    seen = []
    takes = generate_takes(backend, "rain", n=3, duration_s=0.3, seed=9, scorer=False,
                           progress=lambda f, m: seen.append(m))
    assert len([m for m in seen if "step" in m]) == 15 + 3  # one batched decode, not three
    assert all((t.seed, t.batch_size) == (9, 3) for t in takes)
    assert not np.allclose(takes[0].clip.samples, takes[1].clip.samples)
    again = backend.generate_batch("rain", n=3, duration_s=0.3, seed=9)
    assert all(np.array_equal(a.samples, t.clip.samples) for a, t in zip(again, takes))
    assert backend.metadata("rain")["batch"] == {"seed": 9, "n": 3}
