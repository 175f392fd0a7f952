"""Benchmark the mixer: a 60-minute, 8-layer render (mix, master, export) from ready material.

Prints one JSON object::

    {"minutes": 60, "layers": 8, "wall_s": ..., "peak_rss_mb": ..., "pydub_wall_s": ...,
     "speedup_vs_pydub": ..., "remix_10min_s": ..., "lossy_export": {"mp3_10min_s": ..., ...}, ...}

The 8 layers are synthetic (numpy): 6 beds of two 60-second takes each (coloured noise with
slow swells, a drone) and 2 event layers with three short takes each, so the bench does not
depend on any audio backend. ``wall_s`` covers render_soundscape + export_soundscape (mix as
24-bit WAV, 8 stems as float WAV, plus the manifest). ``cpu_s`` (process CPU time) is reported
too, because on a shared machine wall time mostly measures the other tenants. ``peak_rss_mb`` is measured before the pydub part
runs. The pydub comparison builds each layer at full length with AudioSegment concatenation
(loops) and ``overlay`` (events), sums them with ``overlay`` and exports the WAV, the approach
of a well-known image-to-audio demo; it has no loudness normalisation or limiting at all.

Usage: python bench/mix.py [--minutes 60] [--pydub-minutes M] [--skip-pydub] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.types import AudioClip, EventSpec, LayerSource, LayerSpec, MasterSpec, ScenePlan  # noqa: E402

SR = 48_000


def _coloured_noise(rng: np.random.Generator, seconds: float, tilt: float, swell_hz: float) -> np.ndarray:
    n = int(seconds * SR)
    spec = np.fft.rfft(rng.standard_normal((2, n)), axis=-1)
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    spec *= (f / 1000.0) ** (-tilt / 2)
    x = np.fft.irfft(spec, n, axis=-1)
    x /= np.abs(x).max()
    t = np.arange(n) / SR
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * swell_hz * t + rng.uniform(0, 6))
    return (0.3 * x).astype(np.float32)


def _drone(rng: np.random.Generator, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / (k + 1) for k, f in enumerate((110, 165, 220.5, 330)))
    x = x * (0.7 + 0.3 * np.sin(2 * np.pi * 0.05 * t))
    return (0.2 * np.stack([x, np.roll(x, 240)])).astype(np.float32)


def _event(rng: np.random.Generator, seconds: float, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = np.sin(2 * np.pi * freq * t * (1 + 0.02 * rng.standard_normal())) * np.exp(-t * 2.5)
    x += 0.1 * rng.standard_normal(t.size) * np.exp(-t * 8)
    return (0.4 * x).astype(np.float32)[None]


def build_sources(minutes: float) -> tuple[ScenePlan, list[LayerSource]]:
    rng = np.random.default_rng(2024)
    beds = [("rain", 0.5, 0.03), ("wind", 1.5, 0.02), ("stream", 0.8, 0.05), ("leaves", 0.3, 0.07), ("brown", 2.0, 0.01)]
    layers, sources = [], []
    for i, (name, tilt, swell) in enumerate(beds):
        spec = LayerSpec(name=name, role="background", prompt=name, seed=100 + i, gain_db=-3.0 * i,
                         pan=(-0.3, 0.3, 0.0, -0.1, 0.1)[i], width=(1.0, 1.3, 0.8, 1.0, 1.2)[i])
        clips = tuple(AudioClip(_coloured_noise(rng, 60.0, tilt, swell), SR) for _ in range(2))
        layers.append(spec)
        sources.append(LayerSource(spec, clips, "synthetic"))
    spec = LayerSpec(name="drone", role="background", prompt="drone", seed=200, gain_db=-9.0)
    layers.append(spec)
    sources.append(LayerSource(spec, (AudioClip(_drone(rng, 60.0), SR), AudioClip(_drone(rng, 60.0), SR)), "synthetic"))
    for j, (name, freq, every) in enumerate((("bowl", 440.0, 45.0), ("owl", 620.0, 30.0))):
        spec = LayerSpec(name=name, role="foreground", prompt=name, seed=300 + j,
                         events=EventSpec(mean_interval_s=every, event_s=4.0, min_gap_s=5.0, level_db=-3.0, takes=3))
        layers.append(spec)
        sources.append(LayerSource(spec, tuple(AudioClip(_event(rng, 4.0, freq * (1 + 0.1 * k)), SR) for k in range(3)), "synthetic"))
    plan = ScenePlan(style="meditation", duration_s=minutes * 60.0, seed=7, layers=tuple(layers),
                     master=MasterSpec(target_lufs=-14.0, ceiling_dbtp=-1.0, preset="spotify"))
    return plan, sources


def run_ours(plan: ScenePlan, sources: list[LayerSource], out: Path) -> tuple[float, dict]:
    from studio.export import export_soundscape
    from studio.mixing import render_soundscape

    t0, c0 = time.perf_counter(), time.process_time()
    sc = render_soundscape(plan, sources)
    t_render = time.perf_counter() - t0
    export_soundscape(sc, out, manifest={"bench": True})
    return time.perf_counter() - t0, {"render_s": round(t_render, 2), "master": dict(sc.master),
                                      "cpu_s": round(time.process_time() - c0, 2)}


def run_pydub(plan: ScenePlan, sources: list[LayerSource], out: Path) -> float:
    from pydub import AudioSegment

    def seg(x: np.ndarray) -> AudioSegment:
        pcm = (np.clip(x.T, -1, 1) * 32767).astype("<i2").tobytes()
        return AudioSegment(data=pcm, sample_width=2, frame_rate=SR, channels=2)

    total_ms = int(plan.duration_s * 1000)
    t0 = time.perf_counter()
    c0 = time.process_time()
    mix = AudioSegment.silent(duration=total_ms, frame_rate=SR).set_channels(2)
    for spec, src in zip(plan.layers, sources):
        takes = [seg(c.to_stereo().samples) for c in src.clips]
        if spec.role == "background":
            layer = AudioSegment.empty()
            k = 0
            while len(layer) < total_ms:
                layer += takes[k % len(takes)]
                k += 1
            layer = layer[:total_ms].apply_gain(spec.gain_db).pan(spec.pan)
        else:
            layer = AudioSegment.silent(duration=total_ms, frame_rate=SR).set_channels(2)
            t = 0.0
            k = 0
            while t * 1000 < total_ms - 4000:
                layer = layer.overlay(takes[k % len(takes)], position=int(t * 1000))
                t += spec.events.mean_interval_s
                k += 1
        mix = mix.overlay(layer)
        del layer
    mix.export(str(out / "pydub-mix.wav"), format="wav")
    return time.perf_counter() - t0, time.process_time() - c0


def run_remix(minutes: float) -> float:
    from studio.mixing import remix, render_soundscape

    plan, sources = build_sources(minutes)
    sc = render_soundscape(plan, sources)
    new_plan = sc.plan.replace_layer("rain", gain_db=-8.0).replace_layer("owl", mute=True)
    t0, c0 = time.perf_counter(), time.process_time()
    sc2 = remix(sc, new_plan)
    wall = time.perf_counter() - t0
    assert abs(sc2.master["integrated_lufs"] - plan.master.target_lufs) <= 0.3
    return wall, time.process_time() - c0, sc2


def run_lossy(sc) -> dict:
    """The re-mixed track as MP3 and OGG bytes (the studio's download button): each is re-limited,
    encoded, decoded and measured, re-encoded if over the ceiling (studio.mixing.lossy)."""
    from studio.export import export_mix_bytes
    from studio.mixing.lossy import measure_decoded

    out = {}
    for fmt in ("mp3", "ogg"):
        t0 = time.perf_counter()
        data = export_mix_bytes(sc, fmt)
        out[f"{fmt}_10min_s"] = round(time.perf_counter() - t0, 2)
        decoded = measure_decoded(data)
        out[f"{fmt}_decoded_true_peak_dbtp"] = round(decoded.true_peak_dbtp, 2)
        out[f"{fmt}_decoded_lufs"] = round(decoded.lufs, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--remix-minutes", type=float, default=10.0)
    ap.add_argument("--skip-pydub", action="store_true")
    ap.add_argument("--pydub-minutes", type=float, default=None,
                    help="run the pydub comparison on a shorter track (its overlay copies the whole "
                         "layer per event, so 60 minutes takes a very long time); the speedup is then "
                         "per minute of audio, which flatters pydub since its cost grows faster than linearly")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    import scipy.ndimage  # noqa: F401  (import cost is not the mixer's)
    import scipy.signal  # noqa: F401

    plan, sources = build_sources(args.minutes)
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        out = Path(tmp)
        wall, extra = run_ours(plan, sources, out / "ours")
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        bytes_written = sum(p.stat().st_size for p in (out / "ours").rglob("*") if p.is_file())
        pydub_minutes = args.pydub_minutes or args.minutes
        if args.skip_pydub:
            pydub_wall, pydub_cpu = None, None
        else:
            pydub_plan, pydub_sources = (plan, sources) if pydub_minutes == args.minutes else build_sources(pydub_minutes)
            pydub_wall, pydub_cpu = run_pydub(pydub_plan, pydub_sources, out)
    scale = args.minutes / pydub_minutes  # per-minute comparison when the pydub track is shorter
    remix_s, remix_cpu, remixed = run_remix(args.remix_minutes)
    lossy = run_lossy(remixed)
    master = extra["master"]
    print(json.dumps({
        "minutes": args.minutes,
        "layers": len(plan.layers),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "pydub_wall_s": None if pydub_wall is None else round(pydub_wall, 2),
        "pydub_minutes": None if pydub_wall is None else pydub_minutes,
        "speedup_vs_pydub": None if pydub_wall is None else round(pydub_wall * scale / wall, 2),
        "remix_10min_s": round(remix_s, 2),
        "render_s": extra["render_s"],
        "cpu_s": extra["cpu_s"],
        "pydub_cpu_s": None if pydub_cpu is None else round(pydub_cpu, 2),
        "speedup_vs_pydub_cpu": None if pydub_cpu is None else round(pydub_cpu * scale / extra["cpu_s"], 2),
        "remix_10min_cpu_s": round(remix_cpu, 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "export_mb": round(bytes_written / 1e6, 1),
        "integrated_lufs": master["integrated_lufs"],
        "true_peak_dbtp": master["true_peak_dbtp"],
        "limiter_max_reduction_db": master["limiter_max_reduction_db"],
        "master_passes": master["passes"],
        "cpu_count": os.cpu_count(),
        "lossy_export": lossy,
    }))


if __name__ == "__main__":
    main()
