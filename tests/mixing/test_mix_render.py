"""render_soundscape: loudness, true peak, exact length, stems, events, mono, determinism."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from mixing_helpers import noise_take, simple_plan, simple_sources, tone_take
from studio.errors import AudioError, PlanError
from studio.mixing import render_soundscape
from studio.mixing.loudness import integrated_lufs
from studio.mixing.master import fade_envelope
from studio.types import EventSpec, LayerSource, LayerSpec, MasterSpec, ScenePlan

SR = 48_000


def true_peak_4x_dbtp(x: np.ndarray) -> float:
    """Independent 4x-oversampled true peak (scipy's polyphase resampler)."""
    return float(20 * np.log10(np.abs(resample_poly(x.astype(np.float64), 4, 1, axis=-1)).max()))


def reference_lufs(x: np.ndarray) -> float:
    return float(pyloudnorm.Meter(SR).integrated_loudness(x.T.astype(np.float64)))


layer_st = st.fixed_dictionaries({
    "role": st.sampled_from(["background", "background", "foreground"]),
    "gain_db": st.floats(-20.0, 6.0),
    "pan": st.floats(-1.0, 1.0),
    "width": st.floats(0.0, 2.0),
    "mute": st.booleans(),
    "solo": st.sampled_from([False, False, False, True]),
    "rate": st.sampled_from([22_050, 32_000, 44_100, 48_000]),
    "channels": st.sampled_from([1, 2]),
    "take_s": st.floats(0.6, 9.0),
    "tilt": st.floats(0.0, 2.0),
    "level_db": st.floats(-20.0, 6.0),
    "seed": st.integers(0, 2**32 - 1),
})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layers=st.lists(layer_st, min_size=1, max_size=4),
    duration_s=st.floats(5.0, 10.0),
    target=st.floats(-30.0, -14.0),
    ceiling=st.floats(-2.0, -1.0),
    fade_in=st.floats(0.0, 3.0),
    fade_out=st.floats(0.0, 4.0),
)
def test_property_every_output_meets_loudness_peak_length_and_mono(layers, duration_s, target, ceiling, fade_in, fade_out):
    rng = np.random.default_rng(len(layers))
    specs, sources = [], []
    for i, d in enumerate(layers):
        events = None
        if d["role"] == "foreground":
            events = EventSpec(mean_interval_s=2.0, event_s=0.8, min_gap_s=0.3, level_db=d["level_db"], takes=2)
        spec = LayerSpec(name=f"layer-{i}", role=d["role"], prompt="p", seed=d["seed"], gain_db=d["gain_db"],
                         pan=d["pan"], width=d["width"], mute=d["mute"], solo=d["solo"], events=events)
        if d["role"] == "background":
            clips = (noise_take(rng, d["take_s"], d["rate"], d["channels"], d["tilt"]),)
        else:
            clips = tuple(tone_take(0.8, 500.0 + 200 * k, d["rate"]) for k in range(2))
        specs.append(spec)
        sources.append(LayerSource(spec, clips, "synthetic"))
    plan = ScenePlan(style="focus", duration_s=duration_s, seed=1, layers=tuple(specs),
                     master=MasterSpec(target_lufs=target, ceiling_dbtp=ceiling, fade_in_s=fade_in, fade_out_s=fade_out))
    any_solo = any(s.solo for s in specs)
    audible = [s for s in specs if not s.mute and (s.solo or not any_solo)]
    if not audible:
        with pytest.raises(AudioError, match="silent"):
            render_soundscape(plan, sources)
        return
    try:
        sc = render_soundscape(plan, sources)
    except AudioError as exc:
        # only event layers (which may place no event in a short track) or near-silent gains
        # can make an audible-looking plan silent; then the clear error is the right answer
        assert "silent" in str(exc)
        assert all(s.role == "foreground" or s.gain_db <= -40 for s in audible), exc
        return
    mix = sc.mix_clip().samples
    frames = int(round(duration_s * SR))
    assert mix.shape == (2, frames) and sc.frames == frames
    for stem in sc.stems:
        assert stem.clip().samples.shape == (2, frames)
    assert abs(reference_lufs(mix) - target) <= 0.3
    assert abs(sc.master["integrated_lufs"] - target) <= 0.3 and sc.master["target_reached"]
    assert true_peak_4x_dbtp(mix) <= ceiling + 1e-4
    mono = integrated_lufs((mix[0] + mix[1])[None], SR)
    assert integrated_lufs(mix, SR) - mono <= 3.0 + 1e-6
    assert sc.master["mono_loudness_drop_db"] <= 3.0 + 1e-6


def test_exact_length_for_odd_durations():
    plan = simple_plan(duration_s=7.123456)
    sc = render_soundscape(plan, simple_sources(plan))
    assert sc.frames == round(7.123456 * SR)
    assert sum(c.shape[1] for c in sc.iter_mix(chunk_frames=50_000)) == sc.frames


def test_master_report_keys_and_values(rendered):
    sc, mix = rendered
    m = sc.master
    for key in ("gain_db", "target_lufs", "ceiling_dbtp", "integrated_lufs", "true_peak_dbtp",
                "limiter_max_reduction_db", "mono_loudness_drop_db"):
        assert key in m
    assert abs(m["integrated_lufs"] - reference_lufs(mix)) < 0.01
    assert abs(m["true_peak_dbtp"] - true_peak_4x_dbtp(mix)) < 0.01
    assert m["true_peak_dbtp"] <= m["ceiling_dbtp"]
    assert sc.sources and len(sc.sources) == len(sc.plan.layers)


def test_stems_sum_through_master_gain_is_the_mix_where_the_limiter_rests(rendered):
    sc, mix = rendered
    from studio.mixing.bass import BassMono

    total = BassMono(SR).process(sum(stem.clip().samples for stem in sc.stems))
    fade = fade_envelope(sc.plan.master, sc.frames, SR, 0, sc.frames)
    predicted = total * fade * np.float32(10 ** (sc.master["gain_db"] / 20))
    # The limiter only ever lowers the level, by at most its reported maximum reduction...
    ratio_floor = 10 ** (-(sc.master["limiter_max_reduction_db"] + 0.01) / 20)
    big = np.abs(predicted) > 1e-3
    ratio = mix[big] / predicted[big]
    assert ratio.min() >= ratio_floor and ratio.max() <= 1.0 + 1e-4
    # ...and leaves most samples untouched.
    assert np.mean(np.abs(mix - predicted) <= 1e-5) > 0.9


def test_events_are_at_their_times_with_their_spacing(rendered):
    sc, _ = rendered
    ev = sc.plan.layers[2].events
    assert ev.resolved and len(ev.times_s) >= 3
    for a, b in zip(ev.times_s, ev.times_s[1:]):
        assert b - a >= ev.event_s + ev.min_gap_s - 1e-9
    owl = sc.stems[2].clip().samples
    # Outside its events a foreground stem is exactly silent: an onset is the first non-zero
    # sample after at least 10 ms of digital silence.
    active = np.abs(owl).max(axis=0) > 0
    c = np.concatenate([[0], np.cumsum(active)])
    idx = np.arange(active.size)
    quiet_before = (c[idx] - c[np.maximum(idx - 480, 0)]) == 0
    onsets = np.flatnonzero(active & quiet_before)
    # One onset per event, within a few ms of its scheduled time.
    assert len(onsets) == len(ev.times_s)
    assert np.allclose(onsets / SR, ev.times_s, atol=0.01)


def test_events_never_exceed_the_bed_by_more_than_level_db():
    ev = EventSpec(mean_interval_s=3.0, event_s=1.5, min_gap_s=0.5, level_db=-6.0, takes=2)
    plan = simple_plan(duration_s=20.0, events=ev)
    plan = plan.replace_layer("owl", gain_db=9.0)  # a raised gain must not lift events past the ceiling
    sc = render_soundscape(plan, simple_sources(plan))
    beds = sc.stems[0].clip().samples + sc.stems[1].clip().samples
    bed_lufs = integrated_lufs(beds, SR)
    owl = sc.stems[2].clip().samples
    for t in sc.plan.layers[2].events.times_s:
        a = int(t * SR)
        event_lufs = integrated_lufs(owl[:, a : a + int(1.5 * SR)], SR)
        assert event_lufs <= bed_lufs - 6.0 + 0.5


def test_mute_and_solo():
    plan = simple_plan(duration_s=8.0).replace_layer("wind", mute=True)
    sc = render_soundscape(plan, simple_sources(plan))
    assert not sc.stems[1].clip().samples.any()
    plan = simple_plan(duration_s=8.0).replace_layer("owl", solo=True)
    sc = render_soundscape(plan, simple_sources(plan))
    assert not sc.stems[0].clip().samples.any() and not sc.stems[1].clip().samples.any()
    assert sc.stems[2].clip().samples.any()


def test_all_muted_is_a_clear_error():
    plan = simple_plan(duration_s=6.0)
    for name in ("rain", "wind", "owl"):
        plan = plan.replace_layer(name, mute=True)
    with pytest.raises(AudioError, match="silent.*unmute"):
        render_soundscape(plan, simple_sources(plan))


def test_same_input_same_bytes_and_chunking_does_not_matter():
    plan = simple_plan(duration_s=9.0)
    a = render_soundscape(plan, simple_sources(plan))
    b = render_soundscape(plan, simple_sources(plan))
    ma = a.mix_clip().samples
    assert ma.tobytes() == b.mix_clip().samples.tobytes()
    assert np.concatenate(list(a.iter_mix(chunk_frames=33_333)), axis=1).tobytes() == ma.tobytes()
    other = plan.replace_layer("rain", seed=99)
    c = render_soundscape(other, simple_sources(other))
    assert c.mix_clip().samples.tobytes() != ma.tobytes()


def test_fades_and_sleep_fade():
    plan = simple_plan(duration_s=30.0, fade_in_s=2.0, fade_out_s=2.0, sleep_fade_s=20.0)
    sc = render_soundscape(plan, simple_sources(plan))
    mix = sc.mix_clip().samples
    assert np.abs(mix[:, :48]).max() < 1e-3 and np.abs(mix[:, -48:]).max() < 1e-6
    rms = lambda x: np.sqrt(np.mean(x**2))  # noqa: E731
    # The sleep fade makes the last 10 s far quieter than the first 10 s.
    assert 20 * math.log10(rms(mix[:, -10 * SR :]) / rms(mix[:, 2 * SR : 10 * SR])) < -12


def test_very_wide_anti_phase_layer_is_kept_mono_compatible(rng):
    n = 6 * SR
    s = (0.1 * rng.standard_normal(n)).astype(np.float32)
    wide = np.stack([s, -0.9 * s + 0.1 * (0.1 * rng.standard_normal(n)).astype(np.float32)])
    spec = LayerSpec(name="wide", role="background", prompt="p", seed=1, width=2.0)
    plan = ScenePlan(style="focus", duration_s=10.0, seed=0, layers=(spec,), master=MasterSpec(target_lufs=-16.0))
    from studio.types import AudioClip

    sc = render_soundscape(plan, [LayerSource(spec, (AudioClip(wide, SR),), "synthetic")])
    mix = sc.mix_clip().samples
    assert sc.master["mono_side_gain"] < 1.0
    drop = integrated_lufs(mix, SR) - integrated_lufs((mix[0] + mix[1])[None], SR)
    assert drop <= 3.0
    assert abs(reference_lufs(mix) + 16.0) <= 0.3


def test_sources_must_match_the_plan():
    plan = simple_plan(duration_s=6.0)
    sources = simple_sources(plan)
    with pytest.raises(PlanError, match="must follow plan order"):
        render_soundscape(plan, [sources[1], sources[0], sources[2]])
    with pytest.raises(PlanError, match="2 layer sources for 3 plan layers"):
        render_soundscape(plan, sources[:2])


def test_unreachable_target_is_reported_not_forced(rng):
    """-9 LUFS under a -3 dBTP ceiling for one hard-panned noise layer: the master stops
    adding gain when the limiter saturates instead of crushing the audio."""
    from mixing_helpers import noise_take

    spec = LayerSpec(name="solo", role="background", prompt="p", seed=0, pan=1.0, width=0.0)
    plan = ScenePlan(style="focus", duration_s=5.0, seed=0, layers=(spec,),
                     master=MasterSpec(target_lufs=-9.0, ceiling_dbtp=-3.0, fade_in_s=0.0, fade_out_s=0.0))
    sc = render_soundscape(plan, [LayerSource(spec, (noise_take(rng, 1.0, 22_050, 1, 1.0),), "synthetic")])
    assert sc.master["target_reached"] is False
    assert any(n.startswith("loudness ") and "short of the -9 LUFS target" in n for n in sc.master["notes"])
    # the one merge every surface shows: plan, then pipeline, then master, each note once
    missed = next(n for n in sc.master["notes"] if "short of the -9 LUFS target" in n)
    merged = sc.notes(["a fallback note", missed])
    assert merged == [*plan.notes, "a fallback note", *sc.master["notes"]] and merged.count(missed) == 1
    assert sc.master["limiter_max_reduction_db"] < 20.0
    assert true_peak_4x_dbtp(sc.mix_clip().samples) <= -3.0 + 1e-4


def test_reverb_send_adds_a_tail_and_still_meets_the_master():
    dry_plan = simple_plan(duration_s=10.0, fade_out_s=0.0)
    wet_plan = simple_plan(duration_s=10.0, fade_out_s=0.0, reverb_send_db=-6.0)
    dry = render_soundscape(dry_plan, simple_sources(dry_plan))
    wet = render_soundscape(wet_plan, simple_sources(wet_plan))
    assert wet.master["reverb_send_db"] == -6.0
    mix = wet.mix_clip().samples
    assert abs(reference_lufs(mix) - wet_plan.master.target_lufs) <= 0.3
    assert true_peak_4x_dbtp(mix) <= wet_plan.master.ceiling_dbtp + 1e-4
    # The owl's events ring on after they end: right after an event the wet mix keeps more energy.
    ev = wet.plan.layers[2].events
    a = int((ev.times_s[0] + ev.event_s + 0.05) * SR)
    owl_only = [s.clip().samples for s in wet.stems]
    assert not owl_only[2][:, a : a + 2400].any()
    corr = np.corrcoef(dry.mix_clip().samples[0], mix[0])[0, 1]
    assert 0.3 < corr < 0.995  # related to the dry mix, but not the same signal


def test_limited_master_replays_identically_at_any_chunk_size():
    plan = simple_plan(duration_s=9.0, target_lufs=-14.0, ceiling_dbtp=-5.0)
    sc = render_soundscape(plan, simple_sources(plan))
    assert sc.master["limited_fraction"] > 0  # the limiter really works here
    replayed = sc.mix_clip().samples  # default chunks: replays the recorded limiter gains
    recomputed = np.concatenate(list(sc.iter_mix(chunk_frames=40_000)), axis=1)  # detects again
    assert replayed.tobytes() == recomputed.tobytes()
    assert true_peak_4x_dbtp(replayed) <= -5.0 + 1e-4


def test_long_tracks_spill_the_master_cache_to_disk_with_identical_results(monkeypatch):
    """Past CACHE_LIMIT_FRAMES (2 minutes) the pre-master cache goes to a temp file: same bytes."""
    import studio.mixing.master as master

    plan = simple_plan(duration_s=9.0, target_lufs=-14.0, ceiling_dbtp=-5.0)  # limited: 2+ passes
    in_memory = render_soundscape(plan, simple_sources(plan))
    monkeypatch.setattr(master, "PreCache", _spilling_cache())
    spilled = render_soundscape(plan, simple_sources(plan))
    assert spilled.master == in_memory.master
    assert spilled.mix_clip().samples.tobytes() == in_memory.mix_clip().samples.tobytes()


def _spilling_cache():
    from studio.mixing.passes import PreCache

    class Spilling(PreCache):
        def __init__(self, frames):
            super().__init__(10**12)  # as if the track were very long
            assert self.file is not None

    return Spilling


def _peak_render_memory(duration_s: float) -> tuple[int, int]:
    """(peak traced bytes, frames) of a 5-layer render plus a full export pass (mix + stems)."""
    import tracemalloc

    rng = np.random.default_rng(3)
    specs, sources = [], []
    for i in range(4):
        spec = LayerSpec(name=f"bed-{i}", role="background", prompt="p", seed=i, gain_db=-3.0 * i,
                         pan=0.2 * i - 0.3, width=1.2)
        specs.append(spec)
        sources.append(LayerSource(spec, (noise_take(rng, 8.0), noise_take(rng, 7.0)), "synthetic"))
    ev = EventSpec(mean_interval_s=10.0, event_s=2.0, min_gap_s=1.0, takes=2)
    spec = LayerSpec(name="bird", role="foreground", prompt="p", seed=9, events=ev)
    specs.append(spec)
    sources.append(LayerSource(spec, tuple(tone_take(2.0, 700.0 + 100 * k) for k in range(2)), "synthetic"))
    plan = ScenePlan(style="focus", duration_s=duration_s, seed=1, layers=tuple(specs),
                     master=MasterSpec(target_lufs=-16.0))
    tracemalloc.start()
    try:
        sc = render_soundscape(plan, sources)
        frames = 0
        for mix, stems in sc.iter_mix(with_stems=True):
            frames += mix.shape[1]
            assert len(stems) == 5
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frames == sc.frames
    return peak, frames


def test_render_memory_is_bounded_by_chunks_not_track_length(monkeypatch):
    """Rendering, mastering and streaming mix + stems of a 4-minute track takes about the memory
    of a 1-minute one: nothing full-length is held (one 4-minute stem alone is 92 MB)."""
    import studio.mixing.master as master

    monkeypatch.setattr(master, "PreCache", _spilling_cache())  # what a > 20-minute track does
    short, _ = _peak_render_memory(60.0)
    long, frames = _peak_render_memory(240.0)
    stem_bytes = frames * 2 * 4
    # Chunks render ahead on worker threads (studio/mixing/ahead.py): how many are in flight at
    # the peak varies by one between runs (mix + 5 stems of 4 s, ~9 MB), whatever the length.
    from studio.mixing.master import CHUNK_FRAMES

    in_flight_jitter = 6 * CHUNK_FRAMES * 2 * 4
    assert long - short < 0.1 * stem_bytes + in_flight_jitter, f"{short / 1e6:.0f} MB -> {long / 1e6:.0f} MB"


def test_counted_events_render_at_their_count_with_soft_edges():
    ev = EventSpec(count=5, jitter=0.3, event_s=1.5, min_gap_s=1.0, fade_s=0.05, level_db=-3.0, takes=2)
    plan = simple_plan(duration_s=20.0, events=ev)
    sc = render_soundscape(plan, simple_sources(plan))
    times = sc.plan.layers[2].events.times_s
    assert len(times) == 5
    for a, b in zip(times, times[1:]):
        assert b - a >= ev.event_s + ev.min_gap_s - 1e-9
    owl = sc.stems[2].clip().samples
    active = np.abs(owl).max(axis=0) > 0
    starts = np.flatnonzero(active[1:] & ~active[:-1]) + 1
    assert len(starts) == 5 and np.allclose(starts / SR, times, atol=0.002)
    fade = int(ev.fade_s * SR)
    for s in starts:
        event = np.abs(owl[:, s : s + int(ev.event_s * SR)]).max()
        # Raised-cosine edges: near silence at the first samples, full level after the fade...
        assert np.abs(owl[:, s : s + 10]).max() < 0.01 * event
        assert np.abs(owl[:, s + fade : s + 3 * fade]).max() > 0.5 * event
        # ...and no step anywhere in the event larger than the take's own.
        d = np.abs(np.diff(owl[:, s - 1 : s + fade], axis=1)).max()
        assert d < 0.2 * event


def test_hand_written_overlapping_events_all_play_at_any_chunk_size():
    ev = EventSpec(event_s=2.0, times_s=(1.0, 1.5, 6.0), pans=(0.0, 0.5, -0.5), take_indices=(0, 1, 0), takes=2,
                   level_db=-6.0)
    plan = simple_plan(duration_s=10.0, events=ev)
    sc = render_soundscape(plan, simple_sources(plan))
    whole = sc.stems[2].render(0, sc.frames)
    pieces = np.concatenate([sc.stems[2].render(s, 7_001) for s in range(0, sc.frames, 7_001)], axis=1)
    assert np.array_equal(whole, pieces)
    active = np.abs(whole).max(axis=0) > 0
    assert active[int(1.2 * SR)] and active[int(3.2 * SR)] and active[int(6.5 * SR)]
    assert not active[int(3.6 * SR)]
    mix = np.concatenate(list(sc.iter_mix(chunk_frames=7_001)), axis=1)
    assert mix.tobytes() == sc.mix_clip().samples.tobytes()


def test_a_hand_edited_event_level_is_held_to_the_style_ceiling():
    """Sleep allows events at most 6 dB under the bed; a plan asking for +6 dB (a hand-edited
    manifest, say) still gets -6 dB, and the stem metadata says so."""
    ev = EventSpec(mean_interval_s=3.0, event_s=1.5, min_gap_s=0.5, level_db=6.0, takes=2)
    plan = simple_plan(duration_s=20.0, events=ev).model_copy(update={"style": "sleep"})
    sc = render_soundscape(plan, simple_sources(plan))
    meta = sc.stems[2].metadata
    assert meta["event_level_db"] == -6.0 and meta["event_level_capped_from_db"] == 6.0
    beds = sc.stems[0].clip().samples + sc.stems[1].clip().samples
    bed_lufs = integrated_lufs(beds, SR)
    owl = sc.stems[2].clip().samples
    for t in sc.plan.layers[2].events.times_s:
        a = int(t * SR)
        assert integrated_lufs(owl[:, a : a + int(1.5 * SR)], SR) <= bed_lufs - 6.0 + 0.5
