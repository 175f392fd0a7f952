"""The samples backend on generated folders: free layout with sidecars, ESC-50's layout, mixed
formats and rates; matching, seeded choice, exact duration, caching and refresh, errors."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.errors import InputError
from studio.generation import BACKENDS
from studio.generation.samples import OUTPUT_RATE, SamplesBackend
from studio.generation.samples_index import SampleIndex


def tone(freq_hz: float, seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """(frames, channels) sine, for soundfile."""
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * freq_hz * t).astype(np.float32)
    return np.stack([x] * channels, axis=1)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    mono = samples.mean(axis=0)
    spec = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.fft.rfftfreq(len(mono), 1 / rate)[np.argmax(spec)])


@pytest.fixture
def library(tmp_path) -> Path:
    """Free layout: folder names, file names and a sidecar carry the meaning; each file has
    its own frequency so the output shows which file was used."""
    root = tmp_path / "my-recordings"
    (root / "water").mkdir(parents=True)
    (root / "animals").mkdir()
    (root / "misc").mkdir()
    sf.write(root / "water" / "heavy_rain_on_roof.wav", tone(500, 3.0, 44100, 2), 44100)
    sf.write(root / "animals" / "dogBarking.flac", tone(900, 2.0, 22050), 22050)
    sf.write(root / "misc" / "clip01.ogg", tone(1500, 2.0, 48000), 48000)
    (root / "misc" / "clip01.txt").write_text("church bells ringing in a village")
    return root


@pytest.fixture
def esc50(tmp_path) -> Path:
    """ESC-50's layout: audio/<fold>-<id>-<take>-<target>.wav and meta/esc50.csv."""
    root = tmp_path / "ESC-50-master"
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    rows = [("1-100032-A-0.wav", 1, 0, "dog", 700), ("1-110389-A-0.wav", 1, 0, "dog", 700),
            ("1-17367-A-10.wav", 1, 10, "rain", 300),
            ("2-102414-A-17.wav", 2, 17, "pouring_water", 1100), ("3-144510-A-12.wav", 3, 12, "crackling_fire", 1900)]
    with (root / "meta" / "esc50.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
        for name, fold, target, cat, freq in rows:
            w.writerow([name, fold, target, cat, "False", name.split("-")[1], "A"])
            sf.write(root / "audio" / name, tone(freq, 5.0, 44100), 44100)
    return root


def test_prompt_picks_the_matching_recording(library):
    backend = BACKENDS.create("samples", folder=str(library), pack=False)
    assert isinstance(backend, SamplesBackend)
    cases = {"rain pouring on the roof": 500, "a dog barking": 900, "bells from a church": 1500}
    for prompt, freq in cases.items():
        # top_k=1: always the best match
        clip = backend.generate(prompt, duration_s=1.0, seed=0, top_k=1)
        assert clip.sample_rate == OUTPUT_RATE
        assert clip.frames == OUTPUT_RATE
        assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - freq) < 5  # resampled without pitch change
    meta = backend.metadata("a dog barking", top_k=1)
    assert meta["matches"][0]["file"] == "animals/dogBarking.flac"
    assert meta["chosen"][0]["file"] == "misc/clip01.ogg"  # the last generate
    assert 0 < meta["chosen"][0]["similarity"] <= 1


def test_esc50_layout_uses_csv_categories(esc50):
    index = SampleIndex.load_or_build(esc50)
    texts = {e.path: e.text for e in index.entries}
    # the CSV category is the description; the numeric file-name codes carry no words
    assert texts["audio/1-17367-A-10.wav"] == "rain"
    assert texts["audio/3-144510-A-12.wav"] == "crackling fire"
    assert texts["audio/2-102414-A-17.wav"] == "pouring water"
    assert len(index) == 5 and index.embedded == 4  # two dog files, one embedding
    assert index.skipped == []
    entry = next(e for e in index.entries if e.path == "audio/1-17367-A-10.wav")
    assert (entry.frames, entry.sample_rate, entry.channels) == (5 * 44100, 44100, 1)
    backend = SamplesBackend(esc50)
    for prompt, freq in {"steady rain": 300, "a dog": 700, "campfire crackling": 1900}.items():
        clip = backend.generate(prompt, duration_s=2.0, seed=1, top_k=1)
        assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - freq) < 5
        assert clip.channels == 1


def test_exact_duration_by_chaining_and_cropping(library):
    backend = SamplesBackend(library, pack=False)
    # longer than any file: several clips chained with crossfades, stereo because one is
    long_clip = backend.generate("water and rain", duration_s=7.3, seed=5)
    assert long_clip.samples.shape == (2, int(round(7.3 * OUTPUT_RATE)))
    chosen = backend.metadata()["chosen"]
    assert len(chosen) >= 3
    assert all(a["file"] != b["file"] for a, b in zip(chosen, chosen[1:]))  # no immediate repeats
    # no silent gaps at the joins
    env = np.abs(long_clip.samples).reshape(2, -1, 480).max(axis=(0, 2))
    assert env.min() > 0.05
    # shorter than the file: a seeded crop
    short = backend.generate("rain on the roof", duration_s=0.5, seed=5, top_k=1)
    assert short.frames == OUTPUT_RATE // 2


def test_seeded_choice_is_reproducible_and_varies(library):
    backend = SamplesBackend(library, pack=False)
    a = backend.generate("sounds", duration_s=1.0, seed=3, top_k=3)
    b = backend.generate("sounds", duration_s=1.0, seed=3, top_k=3)
    assert np.array_equal(a.samples, b.samples)
    outs = {backend.generate("sounds", duration_s=1.0, seed=s, top_k=3).samples.tobytes() for s in range(8)}
    assert len(outs) > 1


def test_index_is_cached_and_refreshed_when_files_change(library):
    first = SampleIndex.load_or_build(library)
    assert first.embedded == 3 and first.refreshed
    meta = json.loads((library / ".studio-index.json").read_text())
    assert len(meta["entries"]) == 3 and (library / ".studio-index.npy").is_file()

    again = SampleIndex.load_or_build(library)
    assert again.embedded == 0 and not again.refreshed
    assert np.array_equal(again.vectors, first.vectors)

    # a new file is embedded alone; a changed sidecar re-describes its file
    sf.write(library / "water" / "ocean_waves.wav", tone(200, 1.0, 16000), 16000)
    (library / "misc" / "clip01.txt").write_text("crickets chirping at night")
    later = os.stat(library / "misc" / "clip01.ogg").st_mtime_ns + 10**9
    os.utime(library / "misc" / "clip01.txt", ns=(later, later))
    refreshed = SampleIndex.load_or_build(library)
    assert refreshed.refreshed and refreshed.embedded == 2 and len(refreshed) == 4
    assert {e.path: e.text for e in refreshed.entries}["misc/clip01.ogg"] == "crickets chirping at night; clip; misc"
    backend = SamplesBackend(library, pack=False)
    clip = backend.generate("crickets at night", duration_s=0.5, seed=0, top_k=1)
    assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - 1500) < 5

    # a removed file leaves the index
    (library / "animals" / "dogBarking.flac").unlink()
    assert len(SampleIndex.load_or_build(library)) == 3


def test_read_only_folder_caches_elsewhere(library, tmp_path):
    cache = tmp_path / "cache"
    SampleIndex.load_or_build(library, cache_dir=cache)
    assert not (library / ".studio-index.json").exists()
    assert len(list(cache.glob("*.studio-index.json"))) == 1
    assert SampleIndex.load_or_build(library, cache_dir=cache).embedded == 0


def test_empty_missing_and_unreadable_folders(tmp_path):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("no audio here")
    with pytest.raises(InputError, match="has no audio files; add WAV, FLAC, OGG or MP3"):
        SamplesBackend(empty, pack=False)
    with pytest.raises(InputError, match="does not exist"):
        SamplesBackend(tmp_path / "missing", pack=False)
    with pytest.raises(InputError, match="needs a folder"):
        BACKENDS.create("samples", pack=False)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "rain.wav").write_bytes(b"RIFF not really a wav")
    from studio.errors import AudioError

    with pytest.raises(AudioError, match=r"no readable recordings: rain\.wav \(Format not recognised\)"):
        SamplesBackend(broken, pack=False)


def test_mp3_files_are_indexed_and_read(tmp_path):
    root = tmp_path / "mp3s"
    root.mkdir()
    try:
        sf.write(root / "wind_howling.mp3", tone(440, 2.0, 44100), 44100, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError) as exc:  # pragma: no cover - build without MP3
        pytest.skip(f"this libsndfile cannot write MP3: {exc}")
    clip = SamplesBackend(root, pack=False).generate("wind", duration_s=1.0, seed=0)
    assert clip.frames == OUTPUT_RATE
    assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - 440) < 5


# -- bad folders and awkward files ----------------------------------------------------------

def test_unreadable_best_match_is_skipped_for_the_next(tmp_path):
    from studio.errors import AudioError

    root = tmp_path / "mixed"
    root.mkdir()
    (root / "rain_on_roof.wav").write_bytes(b"RIFF not really a wav")  # the best match, damaged
    (root / "empty_rain.wav").write_bytes(b"")
    sf.write(root / "silent_rain.wav", np.zeros((0, 1), np.float32), 48000)  # a header, no frames
    sf.write(root / "light_drizzle.wav", tone(650, 2.0, 44100), 44100)
    sf.write(root / "dog_barking.wav", tone(900, 2.0, 44100), 44100)
    backend = SamplesBackend(root, pack=False)
    skipped = dict(backend.index.skipped)
    assert set(skipped) == {"rain_on_roof.wav", "empty_rain.wav", "silent_rain.wav"}
    assert skipped["silent_rain.wav"] == "no audio frames"
    assert "not recognised" in skipped["rain_on_roof.wav"].lower()
    assert len(backend.index) == 2  # only readable recordings count and can be offered
    clip = backend.generate("rain on the roof", duration_s=1.0, seed=0, top_k=1)
    assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - 650) < 5  # the best readable match
    meta = backend.metadata("rain on the roof", top_k=5)
    assert "rain_on_roof.wav" not in {m["file"] for m in meta["matches"]}
    assert {s["file"] for s in meta["skipped"]} == set(skipped) and meta["skipped_count"] == 3

    # all unreadable: an error naming the files and why
    bad = tmp_path / "all-bad"
    bad.mkdir()
    (bad / "a.wav").write_bytes(b"")
    (bad / "b.mp3").write_text("this is text")
    with pytest.raises(AudioError, match=r"no readable recordings: a\.wav \(.+\), b\.mp3 \(.+\); add WAV"):
        SamplesBackend(bad, pack=False)


def test_file_failing_at_read_time_is_skipped(library, monkeypatch):
    from studio.errors import AudioError
    from studio.generation import samples as samples_mod

    backend = SamplesBackend(library, pack=False)
    real = samples_mod.read_audio

    def flaky(path, *args, **kwargs):
        if path.name == "heavy_rain_on_roof.wav":  # e.g. a drive unplugged after indexing
            raise AudioError(f"cannot read sample {str(path)!r}: permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(samples_mod, "read_audio", flaky)
    clip = backend.generate("rain pouring on the roof", duration_s=1.0, seed=0, top_k=1)
    assert clip.frames == OUTPUT_RATE and np.abs(clip.samples).max() > 0.1
    meta = backend.metadata()
    assert meta["skipped"] == [{"file": "water/heavy_rain_on_roof.wav",
                                "reason": f"cannot read sample {str(library / 'water' / 'heavy_rain_on_roof.wav')!r}: "
                                          "permission denied"}]
    assert "water/heavy_rain_on_roof.wav" not in {c["file"] for c in meta["chosen"]}

    monkeypatch.setattr(samples_mod, "read_audio",
                        lambda path, *a, **k: (_ for _ in ()).throw(AudioError(f"cannot read sample {path.name!r}: gone")))
    with pytest.raises(AudioError, match="none of the recordings matching 'rain' could be read"):
        backend.generate("rain", duration_s=1.0, seed=0)


def test_folders_with_only_other_formats_or_folders_named_like_audio(tmp_path):
    root = tmp_path / "phone"
    root.mkdir()
    (root / "rain.m4a").write_bytes(b"\0" * 64)
    (root / "voice memo.aiff").write_bytes(b"\0" * 64)
    (root / "not-a-file.wav").mkdir()
    with pytest.raises(InputError, match=r"has no audio files; add WAV, FLAC, OGG or MP3 .*\.aiff, \.m4a files"):
        SamplesBackend(root, pack=False)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any folder")
def test_unlistable_subfolder_is_named(tmp_path):
    root = tmp_path / "locked"
    (root / "private").mkdir(parents=True)
    sf.write(root / "private" / "rain.wav", tone(300, 1.0, 48000), 48000)
    os.chmod(root / "private", 0)
    try:
        with pytest.raises(InputError, match="folders that could not be listed: .*private"):
            SamplesBackend(root, pack=False)
    finally:
        os.chmod(root / "private", 0o755)


def test_multichannel_files_fold_to_stereo(tmp_path):
    root = tmp_path / "surround"
    root.mkdir()
    rate = 48000
    t = np.arange(rate) / rate
    # 6 channels: even ones carry 400 Hz, odd ones 1200 Hz
    chans = [0.2 * np.sin(2 * np.pi * (400 if c % 2 == 0 else 1200) * t) for c in range(6)]
    sf.write(root / "forest_ambience.wav", np.stack(chans, axis=1).astype(np.float32), rate)
    clip = SamplesBackend(root, pack=False).generate("forest", duration_s=0.5, seed=0)
    assert clip.channels == 2
    assert abs(dominant_hz(clip.samples[:1], rate) - 400) < 5
    assert abs(dominant_hz(clip.samples[1:], rate) - 1200) < 5


def test_long_recordings_are_read_only_where_used(tmp_path, monkeypatch):
    """A crop from a long file equals the same stretch of the whole file resampled, and only
    that stretch (plus a small margin) is read from disk."""
    from studio.evaluation.clap import resample
    from studio.generation import samples_index

    root = tmp_path / "field"
    root.mkdir()
    rate, seconds = 44100, 120
    rng = np.random.default_rng(0)
    # a slow glide, so every offset sounds different, plus a little noise
    t = np.arange(rate * seconds) / rate
    x = 0.3 * np.sin(2 * np.pi * (200 * t + 3 * t ** 2)) + 0.01 * rng.standard_normal(t.size)
    sf.write(root / "dawn_chorus.flac", x.astype(np.float32)[:, None], rate)
    backend = SamplesBackend(root, pack=False)

    reads = []
    real_read = sf.read

    def counting_read(*args, **kwargs):
        data, r = real_read(*args, **kwargs)
        reads.append(data.shape[0])
        return data, r

    monkeypatch.setattr(sf, "read", counting_read)
    clip = backend.generate("birds at dawn", duration_s=2.0, seed=4)
    assert clip.frames == 2 * OUTPUT_RATE
    assert reads and max(reads) < 2.1 * rate  # about 2 s read, not 120 s

    offset_s = backend.metadata()["chosen"][0]["offset_s"]
    assert 0 < offset_s < seconds - 2
    whole, _ = samples_index.read_audio(root / "dawn_chorus.flac")
    reference = resample(whole, rate, OUTPUT_RATE)
    start = int(round(offset_s * OUTPUT_RATE))
    # offset_s is rounded to 1 ms in the metadata: find the exact alignment nearby
    best = min(range(start - 60, start + 60),
               key=lambda s: float(np.abs(reference[0, s:s + clip.frames] - clip.samples[0]).max()))
    assert abs(best - offset_s * OUTPUT_RATE) <= 24
    # sample for sample, edges included (the read's margin feeds the resampler real signal)
    assert np.abs(reference[0, best:best + clip.frames] - clip.samples[0]).max() < 1e-4


def test_files_added_while_running_are_used_and_cache_dir_is_kept(library, tmp_path):
    cache = tmp_path / "index-cache"
    backend = SamplesBackend(library, cache_dir=cache, pack=False)
    assert not backend.refresh()  # nothing changed: nothing rebuilt
    sf.write(library / "animals" / "owl_hooting.wav", tone(333, 2.0, 48000), 48000)
    clip = backend.generate("an owl hooting at night", duration_s=0.5, seed=0, top_k=1)
    assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - 333) < 5
    assert backend.metadata()["files_indexed"] == 4
    assert not (library / ".studio-index.json").exists()  # the refresh kept the chosen cache place
    assert len(list(cache.glob("*.studio-index.json"))) == 1


def test_unreadable_file_fixed_in_place_is_picked_up_by_a_running_backend(tmp_path, monkeypatch):
    # Tests run as root, so chmod cannot make a file unreadable. Instead the file fails to
    # decode (its RIFF tag is damaged), then is repaired in place with the same size and mtime:
    # as with a fixed permission, nothing that is_stale() compares changes.
    from studio.generation import samples_index

    root = tmp_path / "fixable"
    root.mkdir()
    sf.write(root / "dog_barking.wav", tone(900, 1.0, 48000), 48000)
    owl = root / "owl_hooting.wav"
    sf.write(owl, tone(333, 1.0, 48000), 48000)
    good = owl.read_bytes()
    owl.write_bytes(b"XXXX" + good[4:])
    st = owl.stat()
    backend = SamplesBackend(root, pack=False)
    assert [p for p, _ in backend.index.skipped] == ["owl_hooting.wav"]

    probed: list[str] = []
    real_probe = samples_index.probe
    monkeypatch.setattr(samples_index, "probe", lambda path: probed.append(path.name) or real_probe(path))
    assert not backend.refresh()  # still broken: nothing rebuilt
    assert probed == ["owl_hooting.wav"]  # only the skipped file's header is read again

    owl.write_bytes(good)
    os.utime(owl, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert owl.stat().st_size == st.st_size and owl.stat().st_mtime_ns == st.st_mtime_ns
    assert not backend.index.is_stale()  # the case the size/mtime check cannot see
    clip = backend.generate("an owl hooting at night", duration_s=0.5, seed=0, top_k=1)
    assert abs(dominant_hz(clip.samples, OUTPUT_RATE) - 333) < 5
    assert backend.index.skipped == [] and len(backend.index) == 2
    assert backend.metadata()["chosen"][0]["file"] == "owl_hooting.wav"
    assert not backend.refresh()  # nothing skipped any more, nothing changed
    # the rebuilt index was cached: a new backend reads the file as readable without re-probing
    probed.clear()
    assert SamplesBackend(root, pack=False).index.skipped == [] and probed == []
