"""The slow bed ride (studio/mixing/ride.py) on synthetic beds: it meets the ceiling, stays slow
and bounded, is chunk-independent, leaves steady or free-style tracks alone and says in plain
words when it cannot do it."""

from __future__ import annotations

import numpy as np
import pytest

from mixing_helpers import noise_take
from studio.mixing import render_soundscape
from studio.mixing.render import mix_state
from studio.mixing.ride import RIDE_MAX_DB, RIDE_MAX_DB_PER_S, Ride
from studio.types import AudioClip, LayerSource, LayerSpec, MasterSpec, ScenePlan

SR = 48_000


def _swinging(seed: int, seconds: float, period_s: float, depth_db: float) -> AudioClip:
    """Pink noise whose level alternates between 0 and ``-depth_db`` every ``period_s``
    seconds, with 1-s ramps: a bed that swings slowly, like gusts or a dawn chorus."""
    rng = np.random.default_rng(seed)
    clip = noise_take(rng, seconds, SR, 2, 1.0)
    t = np.arange(clip.samples.shape[1]) / SR
    phase = np.clip((np.abs(((t / period_s) % 2.0) - 1.0) - 0.5) * period_s + 0.5, 0.0, 1.0)
    env = 10 ** (-depth_db * phase / 20)
    return AudioClip((clip.samples * env).astype(np.float32), SR)


def _render(style: str, take: AudioClip, seconds: float = 120.0, seed: int = 1):
    spec = LayerSpec(name="gusts", prompt="wind", seed=seed)
    plan = ScenePlan(style=style, duration_s=seconds, seed=seed, layers=(spec,),
                     master=MasterSpec(target_lufs=-20.0, ceiling_dbtp=-1.0, fade_in_s=2.0, fade_out_s=4.0))
    return render_soundscape(plan, [LayerSource(spec, (take,), "synthetic")])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("style", ["sleep", "focus"])
def test_slow_swings_are_levelled_under_the_ceiling(style, seed):
    sc = _render(style, _swinging(seed, 130.0, 20.0, 10.0), seed=seed)
    m = sc.master
    assert m["bed_ride"]["body_lra_before_lu"] > m["lra_max_lu"] + 2.0  # it needed riding
    assert m["loudness_range_body_lu"] <= m["lra_max_lu"] + 0.1
    assert not any("loudness range" in n for n in m["notes"])
    assert 0.0 < m["bed_ride_db_max"] <= RIDE_MAX_DB
    assert m["target_reached"]
    gain_db = 20 * np.log10(mix_state(sc).settings.ride.gain(0, sc.frames).astype(np.float64))
    step = SR // 10
    assert np.abs(np.diff(gain_db[::step])).max() <= RIDE_MAX_DB_PER_S * 0.1 + 1e-3
    assert m["bed_ride"]["max_slope_db_per_s"] <= RIDE_MAX_DB_PER_S + 1e-6


def test_ride_gains_do_not_depend_on_chunking():
    rng = np.random.default_rng(3)
    ride = Ride(rng.uniform(-6, 6, 50), 24_000, 4_800, SR, {})
    frames = 49 * 24_000 - 123
    whole = ride.gain(0, frames)
    parts, pos = [], 0
    for n in rng.integers(1, 100_000, 200):
        n = int(min(n, frames - pos))
        if n <= 0:
            break
        parts.append(ride.gain(pos, n))
        pos += n
    parts.append(ride.gain(pos, frames - pos))
    assert np.concatenate(parts).tobytes() == whole.tobytes()
    # linear between control points, and exactly the control gains on them
    assert whole[24_000 * 7] == np.float32(10 ** (ride.gains_db[7] / 20))


def test_ridden_mix_is_the_same_in_any_chunk_size():
    sc = _render("sleep", _swinging(5, 70.0, 10.0, 12.0), seconds=60.0)
    assert mix_state(sc).settings.ride is not None
    a = sc.mix_clip().samples
    b = np.concatenate(list(sc.iter_mix(chunk_frames=77_777)), axis=1)
    assert a.tobytes() == b.tobytes()


def test_steady_bed_and_free_style_are_not_ridden():
    steady = _render("sleep", noise_take(np.random.default_rng(0), 70.0, SR, 2, 1.0), seconds=60.0)
    assert steady.master["bed_ride_db_max"] == 0.0 and mix_state(steady).settings.ride is None
    assert steady.master["loudness_range_body_lu"] <= 5.0
    free = _render("nature-walk", _swinging(1, 130.0, 12.0, 12.0))
    assert free.master["lra_max_lu"] is None and free.master["bed_ride_db_max"] == 0.0
    assert free.master["loudness_range_body_lu"] > 6.0  # the swings are kept: this style may swing


def test_swings_too_fast_to_ride_get_a_plain_note():
    # 20 dB jumps every 3 s: only a pumping compressor could hold that
    sc = _render("sleep", _swinging(2, 130.0, 3.0, 20.0))
    m = sc.master
    assert m["loudness_range_body_lu"] > m["lra_max_lu"] + 0.05
    notes = [n for n in m["notes"] if "loudness range" in n]
    assert len(notes) == 1 and "slow levelling" in notes[0] and "fewer or steadier beds" in notes[0]
