"""Real recordings in renders: the source choice, the bundled pack's level and distance,
credits in every export, and bad sample folders that never stop a render."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.generation.pack_limiter import limited_pack_audio, needs_limiter
from studio.generation.samples import OUTPUT_RATE, SamplesBackend
from studio.generation.samples_pack import PACK_LEVEL_LUFS, PACK_PEAK_DBFS
from studio.mixing.loudness import integrated_lufs
from studio.pipeline import SoundscapePipeline
from studio.sounds.recordings import RECORDINGS

ROOT = Path(__file__).resolve().parents[2]

# The three captions, and the recording each must use.
FRESH_INSTALL = {
    "steady rain falling on leaves": "rain",
    "birds singing in a spring forest": "birds",
    "a crackling campfire": "fireplace",
}


def _recording_layers(plan):
    return {layer.params.get("recording"): layer for layer in plan.layers if layer.backend == "samples"}


@pytest.mark.parametrize("style", ["meditation", "sleep", "focus", "nature-walk", "cinematic"])
def test_fresh_install_captions_choose_their_recording_in_every_style(style):
    pipe = SoundscapePipeline()
    for caption, name in FRESH_INSTALL.items():
        plan = pipe.plan(caption, style=style, duration_s=60, seed=3)
        chosen = _recording_layers(plan)
        assert name in chosen, (style, caption, [(la.name, la.backend, dict(la.params)) for la in plan.layers])
        layer = chosen[name]
        assert layer.role == "background"
        assert layer.params["source"] == "recording"
        assert layer.params["source_fit"] >= 0.5
        assert any(name in note and "real recording" in note for note in plan.notes)


def test_a_poor_fit_stays_synthesised_and_says_why():
    # the pack's wind is a gusty outdoor recording; a gentle breeze prompt is better synthesised
    plan = SoundscapePipeline().plan("a snowy field under a pale sky", duration_s=60, seed=1)
    breeze = next(layer for layer in plan.layers if layer.params.get("type") == "breeze")
    assert breeze.backend == "procedural" and breeze.params["source"] == "synthesis"
    assert breeze.params["synthesis_fit"] > breeze.params["source_fit"]
    assert any("synthesised" in note and "'wind'" in note for note in plan.notes)


def test_recordings_can_be_turned_off():
    plan = SoundscapePipeline(recordings=False).plan("a crackling campfire", duration_s=60, seed=3)
    assert all(layer.backend == "procedural" for layer in plan.layers)


@pytest.mark.parametrize("rec", RECORDINGS, ids=lambda r: r.name)
def test_pack_recordings_are_levelled_and_never_chained_to_themselves(rec):
    backend = SamplesBackend()
    clip = backend.generate("anything", duration_s=600.0, seed=4, recording=rec.name)
    # at most the recording itself: the mixer arranges it, a plain self-loop would recur
    assert clip.frames == pytest.approx(rec.duration_s * OUTPUT_RATE, abs=0.1 * OUTPUT_RATE)
    assert clip.channels == 2 and np.isfinite(clip.samples).all()
    # levelled to the pack level, with any transient that would pass the ceiling limited
    # (stems are integer PCM: a sample over full scale would be clipped in the stem)
    # (a recording whose limiting would reach past its transients stays a little under it)
    level = limited_pack_audio(rec.file)[1].loudness_lufs if needs_limiter(rec.file) else PACK_LEVEL_LUFS
    assert PACK_LEVEL_LUFS - 2.5 < level <= PACK_LEVEL_LUFS + 0.1
    assert abs(integrated_lufs(clip.samples, OUTPUT_RATE) - level) < 1.0
    assert np.abs(clip.samples).max() <= 10 ** (PACK_PEAK_DBFS / 20) * 1.01
    meta = backend.metadata()
    assert [c["recording"] for c in meta["credits"]] == [rec.name]
    assert meta["chosen"][0]["source"] == "pack"


def test_same_seed_same_crop_other_seed_other_crop():
    backend = SamplesBackend()
    a = backend.generate("rain", duration_s=10.0, seed=1, recording="rain")
    b = backend.generate("rain", duration_s=10.0, seed=1, recording="rain")
    c = backend.generate("rain", duration_s=10.0, seed=2, recording="rain")
    assert a.samples.tobytes() == b.samples.tobytes()
    assert a.samples.tobytes() != c.samples.tobytes()


def _centroid_hz(samples: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(samples.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(samples.shape[1], 1 / OUTPUT_RATE)
    return float((spec * freqs).sum() / spec.sum())


def test_distance_darkens_a_recording_over_many_seeds():
    backend = SamplesBackend()
    for seed in range(8):
        near = backend.generate("rain", duration_s=4.0, seed=seed, recording="rain", distance=0.3)
        far = backend.generate("rain", duration_s=4.0, seed=seed, recording="rain", distance=1.0)
        assert _centroid_hz(far.samples) < 0.6 * _centroid_hz(near.samples), seed


def test_without_a_named_recording_the_pack_is_searched_by_meaning():
    backend = SamplesBackend()
    backend.generate("ocean waves washing onto the sand", duration_s=3.0, seed=0, top_k=1)
    assert backend.metadata()["chosen"][0]["file"] == "waves.ogg"


def _write_tone(path: Path, freq: float, seconds: float = 3.0) -> None:
    t = np.arange(int(seconds * 44_100)) / 44_100
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), 44_100)


def test_a_users_folder_that_fits_better_is_used(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    _write_tone(folder / "crackling campfire logs burning.wav", 300.0)
    pipe = SoundscapePipeline(backend_options={"samples": {"folder": str(folder)}})
    plan = pipe.plan("a crackling campfire", duration_s=30, seed=0)
    fire = next(layer for layer in plan.layers if layer.params.get("type") == "campfire")
    assert fire.backend == "samples" and fire.params["source"] == "folder"
    assert any("your own recordings" in note for note in plan.notes)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_render_exports_credits_and_a_bad_folder_never_stops_it(tmp_path):
    folder = tmp_path / "damaged"
    folder.mkdir()
    (folder / "rain.wav").write_bytes(b"RIFF not a wav")
    (folder / "empty.flac").write_bytes(b"")
    out = tmp_path / "out"
    proc = _cli("render", "--caption", "a crackling campfire", "--seconds", "8", "--seed", "1",
                "--samples", str(folder), "--out", str(out), "--quiet", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    credits = (out / "CREDITS.txt").read_text()
    assert "fireplace" in credits and "ezwa" in credits and "Public Domain" in credits
    assert any("ezwa" in line for line in summary["credits"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["recording"] for c in manifest["credits"]] == ["fireplace"]
    assert "CREDITS.txt" in manifest["outputs"]["extra"]
    # one clear note for the unusable folder: the render went on with the bundled recordings
    assert any("samples folder was not used" in note and "rain.wav" in note for note in summary["notes"])
    info = sf.info(str(out / "mix.wav"))
    assert info.samplerate == 48_000 and info.frames == 8 * 48_000


def test_a_partly_bad_folder_names_each_bad_file(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    _write_tone(folder / "quiet hum.wav", 200.0)
    (folder / "broken.wav").write_bytes(b"RIFF not a wav")
    (folder / "zero.ogg").write_bytes(b"")
    pipe = SoundscapePipeline(backend_options={"samples": {"folder": str(folder)}})
    pipe.plan("a crackling campfire", duration_s=30, seed=0)
    skipped = [n for n in pipe.notes if "was skipped" in n]
    assert any("broken.wav" in n for n in skipped) and any("zero.ogg" in n for n in skipped)


def test_samples_flag_must_name_a_folder(tmp_path):
    proc = _cli("render", "--caption", "rain", "--samples", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: --samples")
    assert not (tmp_path / "o").exists()


def test_synthesised_render_says_it_uses_no_recordings(tmp_path):
    pipe = SoundscapePipeline(recordings=False)
    scape = pipe.run(caption="a crackling campfire", duration_s=5, seed=0)
    paths = pipe.export(scape, tmp_path / "synth")
    assert paths.manifest["credits"] == []
    assert "no third-party recordings" in (tmp_path / "synth" / "CREDITS.txt").read_text()


def test_the_train_recording_stands_in_for_the_train_type():
    from studio.generation.sources import choose_sources

    plan = SoundscapePipeline(recordings=False).plan("a train riding on railway tracks", duration_s=60, seed=3)
    train = next(layer for layer in plan.layers if layer.params.get("type") == "train")
    described = plan.replace_layer(train.name, prompt="train riding on railway tracks, rhythmic clatter of wheels")
    chosen = next(layer for layer in choose_sources(described).layers if layer.name == train.name)
    assert chosen.backend == "samples" and chosen.params["recording"] == "train"
    assert chosen.params["source_fit"] >= 0.5
