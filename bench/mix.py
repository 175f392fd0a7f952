"""Benchmark the mixer: a 60-minute, 8-layer render (mix, master, export) from ready material.

Prints one JSON object::

    {"minutes": 60, "layers": 8, "wall_s": ..., "peak_rss_mb_external": ...,
     "pydub_fair_wall_s": ..., "speedup_vs_pydub_fair": ...,
     "pydub_strawman_wall_s": ..., "speedup_vs_pydub_strawman": ...,
     "remix_10min_s": ..., "lossy_export": {"mp3_10min_s": ..., ...}, ...}

The 8 layers are synthetic (numpy): 5 coloured-noise beds and a drone bed of two 60-second takes
each, and 2 event layers with three short takes each, so the bench does not depend on any audio
backend. Event times, pans and take choices are resolved once and used by every contender.

Each contender runs in its own fresh child process (``python bench/mix.py --child NAME``), and
its peak RSS is read from outside while it runs (the kernel's high-water mark ``VmHWM`` from
``/proc/<pid>/status``, polled every 20 ms, or psutil's RSS where /proc is missing). A fresh
process after ``exec`` starts a new high-water mark, so no parent's history leaks into the figure
(``ru_maxrss`` of the bench's own process survives ``exec`` and can report a parent's memory).

Contenders, all writing the same outputs (the mix and 8 stems after each layer's gain and pan as
WAV; ours writes the mix as 24-bit and the stems as 32-bit float, pydub both as 32-bit integer):

- ``ours``: ``render_soundscape`` + ``export_soundscape`` (loudness to target in LUFS, true-peak
  limiting, fades, width, equal-power crossfaded loops; manifest too). ``wall_s``.
- ``pydub_fair``: pydub as a competent user writes it: each layer built once at full length by
  joining raw bytes (bed takes alternating; events as silence + event + silence ...), gain and pan
  applied once per layer (per event for event pans), each layer overlaid onto the mix once, the
  mix level-matched with ``apply_gain`` on its dBFS (pydub has no LUFS meter or limiter), then the
  mix and the 8 stems exported. ``speedup_vs_pydub_fair`` is the honest figure.
- ``pydub_strawman`` (the figure reported before issue 20): every event overlaid onto a
  full-length layer, so each event copies the whole layer (quadratic), and only the mix written.
  ``speedup_vs_pydub_strawman``; kept so the two can be compared, not as the claim.

``cpu_s`` (process CPU time) is reported for every contender, because on a shared machine wall
time also measures the other tenants.

Usage: python bench/mix.py [--minutes 60] [--pydub-minutes M] [--skip-pydub] [--skip-strawman] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.types import PROJECT_SAMPLE_RATE as SR  # noqa: E402
from studio.types import AudioClip, EventSpec, LayerSource, LayerSpec, MasterSpec, ScenePlan  # noqa: E402

POLL_S = 0.02


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
    """The resolved plan (event times, pans and takes fixed) and the layers' ready material."""
    from studio.mixing import resolve_events

    rng = np.random.default_rng(2024)
    beds = [("rain", 0.5, 0.03), ("wind", 1.5, 0.02), ("stream", 0.8, 0.05), ("leaves", 0.3, 0.07), ("brown", 2.0, 0.01)]
    layers, clips = [], []
    for i, (name, tilt, swell) in enumerate(beds):
        layers.append(LayerSpec(name=name, role="background", prompt=name, seed=100 + i, gain_db=-3.0 * i,
                                pan=(-0.3, 0.3, 0.0, -0.1, 0.1)[i], width=(1.0, 1.3, 0.8, 1.0, 1.2)[i]))
        clips.append(tuple(AudioClip(_coloured_noise(rng, 60.0, tilt, swell), SR) for _ in range(2)))
    layers.append(LayerSpec(name="drone", role="background", prompt="drone", seed=200, gain_db=-9.0))
    clips.append((AudioClip(_drone(rng, 60.0), SR), AudioClip(_drone(rng, 60.0), SR)))
    for j, (name, freq, every) in enumerate((("bowl", 440.0, 45.0), ("owl", 620.0, 30.0))):
        layers.append(LayerSpec(name=name, role="foreground", prompt=name, seed=300 + j,
                                events=EventSpec(mean_interval_s=every, event_s=4.0, min_gap_s=5.0, level_db=-3.0, takes=3)))
        clips.append(tuple(AudioClip(_event(rng, 4.0, freq * (1 + 0.1 * k)), SR) for k in range(3)))
    plan = resolve_events(ScenePlan(style="meditation", duration_s=minutes * 60.0, seed=7, layers=tuple(layers),
                                    master=MasterSpec(target_lufs=-14.0, ceiling_dbtp=-1.0, preset="spotify")))
    sources = [LayerSource(spec, takes, "synthetic") for spec, takes in zip(plan.layers, clips)]
    return plan, sources


# --------------------------------------------------------------------------- contenders (child side)


def run_ours(minutes: float, out: Path) -> dict:
    from studio.export import export_soundscape
    from studio.mixing import render_soundscape

    plan, sources = build_sources(minutes)
    t0, c0 = time.perf_counter(), time.process_time()
    sc = render_soundscape(plan, sources)
    t_render = time.perf_counter() - t0
    # Stems as 32-bit float WAV (the pre-master stems can exceed full scale), like pydub's 32-bit.
    export_soundscape(sc, out, manifest={"bench": True}, stem_format="wav", stem_subtype="FLOAT")
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "render_s": t_render,
            "master": dict(sc.master), "export_mb": _bytes_under(out) / 1e6}


def _segment(x: np.ndarray, sample_width: int):
    """A float ``(channels, frames)`` array as a stereo AudioSegment of ``sample_width`` bytes."""
    from pydub import AudioSegment

    full = float(2 ** (8 * sample_width - 1) - 1)
    dtype = {2: "<i2", 4: "<i4"}[sample_width]
    pcm = (np.clip(np.broadcast_to(x, (2, x.shape[1])).T, -1, 1) * full).astype(dtype).tobytes()
    return AudioSegment(data=pcm, sample_width=sample_width, frame_rate=SR, channels=2)


def run_pydub_fair(minutes: float, out: Path) -> dict:
    """pydub as a competent user writes it (see the module docstring): linear in the length."""
    from pydub import AudioSegment

    plan, sources = build_sources(minutes)
    width = 4  # 32-bit integer: pydub's pan (array module) cannot work on 24-bit audio
    frame_bytes = 2 * width
    total_frames = int(round(plan.duration_s * SR))
    t0, c0 = time.perf_counter(), time.process_time()
    mix = None
    for i, (spec, src) in enumerate(zip(plan.layers, sources)):
        takes = [_segment(c.samples, width) for c in src.clips]
        if spec.role == "background":
            parts, n, k = [], 0, 0
            while n < total_frames:
                take = takes[k % len(takes)].raw_data
                parts.append(take[: (total_frames - n) * frame_bytes])  # the last take is cut to length
                n += len(parts[-1]) // frame_bytes
                k += 1
            layer = AudioSegment(data=b"".join(parts), sample_width=width, frame_rate=SR, channels=2)
            layer = layer.apply_gain(spec.gain_db).pan(spec.pan)
        else:
            ev = spec.events
            parts, cursor = [], 0  # cursor in frames
            for t, pan, take in zip(ev.times_s, ev.pans, ev.take_indices):
                start = max(int(round(t * SR)), cursor)  # events never overlap in this plan (min_gap > event_s)
                piece = takes[take].apply_gain(spec.gain_db + ev.level_db).pan(pan)
                piece_frames = min(int(piece.frame_count()), total_frames - start)
                if piece_frames <= 0:
                    break
                parts.append(b"\0" * ((start - cursor) * frame_bytes))
                parts.append(piece.raw_data[: piece_frames * frame_bytes])
                cursor = start + piece_frames
            parts.append(b"\0" * ((total_frames - cursor) * frame_bytes))
            layer = AudioSegment(data=b"".join(parts), sample_width=width, frame_rate=SR, channels=2)
        layer.export(str(out / f"stem-{i + 1:02d}-{spec.name}.wav"), format="wav")
        mix = layer if mix is None else mix.overlay(layer)
        del layer
    mix = mix.apply_gain(plan.master.target_lufs - mix.dBFS)  # RMS level match: pydub's nearest to LUFS
    # Written as 32-bit: pydub converts 24-bit audio sample by sample in Python, which a competent
    # user avoids (it would add minutes to this figure for a slightly smaller file).
    mix.export(str(out / "mix.wav"), format="wav")
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "export_mb": _bytes_under(out) / 1e6}


def run_pydub_strawman(minutes: float, out: Path) -> dict:
    """The baseline reported before issue 20: every event is overlaid onto a full-length layer
    (each overlay copies the whole layer) and only the mix is written, as 16-bit."""
    from pydub import AudioSegment

    plan, sources = build_sources(minutes)
    total_ms = int(plan.duration_s * 1000)
    t0, c0 = time.perf_counter(), time.process_time()
    mix = AudioSegment.silent(duration=total_ms, frame_rate=SR).set_channels(2)
    for spec, src in zip(plan.layers, sources):
        takes = [_segment(c.samples, 2) for c in src.clips]
        if spec.role == "background":
            layer = AudioSegment.empty()
            k = 0
            while len(layer) < total_ms:
                layer += takes[k % len(takes)]
                k += 1
            layer = layer[:total_ms].apply_gain(spec.gain_db).pan(spec.pan)
        else:
            layer = AudioSegment.silent(duration=total_ms, frame_rate=SR).set_channels(2)
            t, k = 0.0, 0
            while t * 1000 < total_ms - 4000:
                layer = layer.overlay(takes[k % len(takes)], position=int(t * 1000))
                t += spec.events.mean_interval_s
                k += 1
        mix = mix.overlay(layer)
        del layer
    mix.export(str(out / "pydub-mix.wav"), format="wav")
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "export_mb": _bytes_under(out) / 1e6}


CONTENDERS = {"ours": run_ours, "pydub_fair": run_pydub_fair, "pydub_strawman": run_pydub_strawman}


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- parent side


def _hwm_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM) in MB, or None where /proc has no such line."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def measure_child(name: str, minutes: float, out: Path) -> dict:
    """Run one contender in a fresh Python process; its JSON result plus ``peak_rss_mb_external``,
    the child's peak RSS as seen from this process."""
    import psutil

    out.mkdir(parents=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--minutes", str(minutes), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    child = psutil.Process(proc.pid)
    peak = 0.0
    while proc.poll() is None:
        hwm = _hwm_mb(proc.pid)
        try:
            rss = child.memory_info().rss / 2**20
        except psutil.Error:
            rss = 0.0
        peak = max(peak, rss, hwm or 0.0)
        time.sleep(POLL_S)
    stdout = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"bench child {name!r} failed with exit code {proc.returncode}")
    result = json.loads(stdout)
    result["peak_rss_mb_external"] = peak
    return result


def run_remix(minutes: float):
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


def _r(value: float | None, nd: int = 2) -> float | None:
    return None if value is None else round(value, nd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--remix-minutes", type=float, default=10.0)
    ap.add_argument("--skip-pydub", action="store_true", help="skip both pydub contenders")
    ap.add_argument("--skip-strawman", action="store_true", help="skip the old quadratic pydub baseline")
    ap.add_argument("--pydub-minutes", type=float, default=None,
                    help="run the pydub strawman on a shorter track (it copies the whole layer per event, "
                         "so 60 minutes takes ~10 minutes); its speedup is then per minute of audio")
    ap.add_argument("--skip-remix", action="store_true", help="skip the re-mix and lossy-export figures")
    ap.add_argument("--out", default=None, help="folder for the temporary outputs (default: the system temp)")
    ap.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:  # one contender in this fresh process; the parent measures its memory
        import scipy.ndimage  # noqa: F401  (import cost is not the mixer's)
        import scipy.signal  # noqa: F401

        result = CONTENDERS[args.child](args.minutes, Path(args.out))
        print(json.dumps({k: v for k, v in result.items()}))
        return

    results: dict[str, dict] = {}
    strawman_minutes = args.pydub_minutes or args.minutes
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        runs = [("ours", args.minutes)]
        if not args.skip_pydub:
            runs.append(("pydub_fair", args.minutes))
            if not args.skip_strawman:
                runs.append(("pydub_strawman", strawman_minutes))
        for name, minutes in runs:
            results[name] = measure_child(name, minutes, Path(tmp) / name)
            import shutil

            shutil.rmtree(Path(tmp) / name)  # 12 GB of stems need not wait for the next contender
    ours, fair, straw = results["ours"], results.get("pydub_fair"), results.get("pydub_strawman")
    scale = args.minutes / strawman_minutes  # per-minute comparison when the strawman's track is shorter
    report = {
        "minutes": args.minutes,
        "layers": 8,
        "wall_s": _r(ours["wall_s"]),
        "cpu_s": _r(ours["cpu_s"]),
        "render_s": _r(ours["render_s"]),
        "peak_rss_mb_external": _r(ours["peak_rss_mb_external"], 1),
        "export_mb": _r(ours["export_mb"], 1),
        "pydub_fair_wall_s": _r(fair and fair["wall_s"]),
        "pydub_fair_cpu_s": _r(fair and fair["cpu_s"]),
        "pydub_fair_peak_rss_mb_external": _r(fair and fair["peak_rss_mb_external"], 1),
        "pydub_fair_export_mb": _r(fair and fair["export_mb"], 1),
        "speedup_vs_pydub_fair": _r(fair and fair["wall_s"] / ours["wall_s"]),
        "speedup_vs_pydub_fair_cpu": _r(fair and fair["cpu_s"] / ours["cpu_s"]),
        "pydub_strawman_minutes": straw and strawman_minutes,
        "pydub_strawman_wall_s": _r(straw and straw["wall_s"]),
        "speedup_vs_pydub_strawman": _r(straw and straw["wall_s"] * scale / ours["wall_s"]),
        "speedup_vs_pydub_strawman_cpu": _r(straw and straw["cpu_s"] * scale / ours["cpu_s"]),
    }
    master = ours["master"]
    report.update({
        "integrated_lufs": master["integrated_lufs"],
        "true_peak_dbtp": master["true_peak_dbtp"],
        "limiter_max_reduction_db": master["limiter_max_reduction_db"],
        "master_passes": master["passes"],
    })
    if not args.skip_remix:
        remix_s, remix_cpu, remixed = run_remix(args.remix_minutes)
        report.update({"remix_10min_s": _r(remix_s), "remix_10min_cpu_s": _r(remix_cpu), "lossy_export": run_lossy(remixed)})
    report.update({"load_avg_1min": round(os.getloadavg()[0], 2), "cpu_count": os.cpu_count()})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
