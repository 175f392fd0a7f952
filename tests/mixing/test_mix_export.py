"""export_soundscape: files, formats, exact lengths, manifest, determinism, atomicity, loop."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import soundfile as sf

from studio.errors import ExportError
from studio.export import export_mix_bytes, export_soundscape

SR = 48_000


def _names(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_export_writes_mix_stems_manifest(rendered, tmp_path):
    sc, mix = rendered
    out = tmp_path / "new" / "dir"
    paths = export_soundscape(sc, out, manifest={"plan": json.loads(sc.plan.to_json())}, title="Lake", stem_format="wav")
    assert _names(out) == ["CREDITS.txt", "manifest.json", "mix.wav", "stems", "stems/01-background-rain.wav",
                           "stems/02-background-wind.wav", "stems/03-foreground-owl.wav"]
    info = sf.info(paths["mix"])
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (SR, 2, sc.frames, "PCM_24")
    with sf.SoundFile(paths["mix"]) as f:
        assert f.title == "Lake" and "style=meditation" in f.comment and "seed=5" in f.comment
    written, _ = sf.read(paths["mix"], dtype="float32")
    assert np.abs(written.T - mix).max() <= 1.0 / 2**23
    for i, stem in enumerate(sc.stems):
        data, sr = sf.read(paths[f"stem:{i + 1:02d}"], dtype="float32")
        assert sr == SR and data.shape == (sc.frames, 2)
        # Float stems are the layer at mix level: Stem.render (fader and ride) times the master gain.
        expected = stem.clip().samples * np.float32(10 ** (sc.master["gain_db"] / 20))
        assert np.abs(data.T - expected).max() <= 1e-4 * max(1e-3, float(np.abs(expected).max()))
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["outputs"]["mix"] == "mix.wav"
    assert manifest["outputs"]["stems"][2] == "stems/03-foreground-owl.wav"
    assert manifest["master"]["gain_db"] == sc.master["gain_db"]
    assert manifest["export"]["frames"] == sc.frames and "plan" in manifest


def test_reexport_is_byte_identical(rendered, tmp_path):
    sc, _ = rendered
    a = export_soundscape(sc, tmp_path / "a", manifest={}, mix_format="flac", stem_format="flac")
    b = export_soundscape(sc, tmp_path / "b", manifest={}, mix_format="flac", stem_format="flac")
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key
    c = export_soundscape(sc, tmp_path / "c", manifest={})
    d = export_soundscape(sc, tmp_path / "d", manifest={})
    assert c["mix"].read_bytes() == d["mix"].read_bytes()
    assert export_mix_bytes(sc) == c["mix"].read_bytes()
    for fmt in ("ogg", "mp3"):
        e = export_soundscape(sc, tmp_path / f"e-{fmt}", manifest={}, mix_format=fmt)
        assert export_mix_bytes(sc, fmt) == export_mix_bytes(sc, fmt) == e["mix"].read_bytes()


def test_export_bytes_do_not_depend_on_the_encoder_threads(rendered, tmp_path, monkeypatch):
    import studio.export as export

    sc, _ = rendered
    outs = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(export, "ENCODE_THREADS", threads)
        outs[threads] = export_soundscape(sc, tmp_path / f"t{threads}", manifest={}, mix_format="flac", stem_format="flac")
    assert len(outs[1]) >= 4
    for key in outs[1]:
        assert outs[1][key].read_bytes() == outs[2][key].read_bytes() == outs[3][key].read_bytes(), key


@pytest.mark.parametrize("fmt, subtype", [("wav", "PCM_16"), ("wav", "FLOAT"), ("flac", None), ("ogg", None), ("mp3", None)])
def test_mix_formats(rendered, tmp_path, fmt, subtype):
    sc, mix = rendered
    paths = export_soundscape(sc, tmp_path / fmt, manifest={}, mix_format=fmt, mix_subtype=subtype)
    assert paths["mix"].name == f"mix.{fmt}"
    data, sr = sf.read(paths["mix"], dtype="float32")
    assert sr == SR and data.shape[1] == 2
    if fmt in ("wav", "flac"):
        assert data.shape[0] == sc.frames
    else:  # lossy codecs: length within a codec frame
        assert abs(data.shape[0] - sc.frames) <= 2_400


def test_bad_formats_are_export_errors(rendered, tmp_path):
    sc, _ = rendered
    with pytest.raises(ExportError, match="unsupported mix format 'aac'; choose one of: wav, flac, ogg, mp3"):
        export_soundscape(sc, tmp_path / "x", manifest={}, mix_format="aac")
    with pytest.raises(ExportError, match="unsupported stem format 'mp3'"):
        export_soundscape(sc, tmp_path / "x", manifest={}, stem_format="mp3")
    with pytest.raises(ExportError, match="subtype"):
        export_soundscape(sc, tmp_path / "x", manifest={}, mix_subtype="PCM_8")
    assert not (tmp_path / "x").exists()


class Boom(RuntimeError):
    pass


def _interrupt_after(monkeypatch, writes: int):
    import studio.mixing.wav as wav

    real = wav.WavWriter.write
    count = {"n": 0}

    def flaky(self, x):
        count["n"] += 1
        if count["n"] > writes:
            raise Boom("disk pulled mid-write")
        real(self, x)

    monkeypatch.setattr(wav.WavWriter, "write", flaky)


def test_interrupted_export_leaves_nothing_in_a_new_folder(rendered, tmp_path, monkeypatch):
    sc, _ = rendered
    _interrupt_after(monkeypatch, writes=9)  # a couple of chunks into mix + stems
    out = tmp_path / "fresh" / "out"
    with pytest.raises(Boom):
        export_soundscape(sc, out, manifest={}, zip_name="all.zip", stem_format="wav")
    assert not (tmp_path / "fresh").exists()


def test_interrupted_export_keeps_the_previous_files_whole(rendered, tmp_path, monkeypatch):
    sc, _ = rendered
    out = tmp_path / "out"
    first = export_soundscape(sc, out, manifest={"n": 1}, stem_format="wav")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _interrupt_after(monkeypatch, writes=9)
    with pytest.raises(Boom):
        export_soundscape(sc, out, manifest={"n": 2}, stem_format="wav")
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no partial file under a final name, no temp files left behind
    assert json.loads(first["manifest"].read_text())["n"] == 1


def test_zip_holds_everything_and_is_deterministic(rendered, tmp_path):
    sc, _ = rendered
    a = export_soundscape(sc, tmp_path / "a", manifest={}, zip_name="soundscape", stem_format="wav")
    b = export_soundscape(sc, tmp_path / "b", manifest={}, zip_name="soundscape", stem_format="wav")
    assert a["zip"].name == "soundscape.zip"
    with zipfile.ZipFile(a["zip"]) as zf:
        assert sorted(zf.namelist()) == ["CREDITS.txt", "manifest.json", "mix.wav", "stems/01-background-rain.wav",
                                          "stems/02-background-wind.wav", "stems/03-foreground-owl.wav"]
        assert zf.read("mix.wav") == a["mix"].read_bytes()
    assert a["zip"].read_bytes() == b["zip"].read_bytes()
    with pytest.raises(ExportError, match="plain file name"):
        export_soundscape(sc, tmp_path / "c", manifest={}, zip_name="../evil.zip")


def test_loop_ready_mix_wraps_without_a_click(rendered, tmp_path):
    from studio.mixing.loop_ready import loop_frames

    sc, _ = rendered
    paths = export_soundscape(sc, tmp_path / "loop", manifest={}, loop_ready=True, mix_subtype="FLOAT")
    loop, _ = sf.read(paths["mix_loop"], dtype="float32")
    loop = loop.T
    assert loop.shape == (2, loop_frames(sc))
    # Played twice in a row, the wrap point looks like any other point of the loop.
    twice = np.concatenate([loop, loop], axis=1)
    d = np.abs(np.diff(twice, axis=1)).max(axis=0)
    wrap = loop.shape[1]
    assert d[wrap - 50 : wrap + 50].max() <= 1.5 * np.percentile(d, 99.9)
    # No fades: the loop starts and ends at full level.
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert rms(loop[:, : SR // 2]) > 0.3 * rms(loop) and rms(loop[:, -SR // 2 :]) > 0.3 * rms(loop)
    # The limiter still holds the ceiling.
    from scipy.signal import resample_poly

    assert 20 * np.log10(np.abs(resample_poly(loop.astype(np.float64), 4, 1, axis=-1)).max()) <= sc.master["ceiling_dbtp"] + 1e-4


class _FullDisk:
    """A temp-file handle that fails like a full disk once ``limit`` bytes are written."""

    def __init__(self, fh, limit):
        self.fh, self.left = fh, limit

    def write(self, data):
        n = len(memoryview(data).cast("B"))
        if n > self.left:
            import errno

            raise OSError(errno.ENOSPC, "No space left on device")
        self.left -= n
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)


def _disk_fills_after(monkeypatch, limit: int):
    import studio.atomic as atomic

    real = atomic.AtomicFile.__init__

    def init(self, final, **kw):
        real(self, final, **kw)
        self.fh = _FullDisk(self.fh, limit)

    monkeypatch.setattr(atomic.AtomicFile, "__init__", init)


def _snapshot(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg"])
def test_disk_full_mid_write_is_a_clear_error_and_keeps_the_previous_export(rendered, tmp_path, monkeypatch, capfd, fmt):
    sc, _ = rendered
    out = tmp_path / "out"
    export_soundscape(sc, out, manifest={"n": 1}, mix_format=fmt, stem_format="flac" if fmt == "flac" else "wav")
    before = _snapshot(out)
    _disk_fills_after(monkeypatch, 300_000)
    with pytest.raises(ExportError, match="No space left on device; free some disk space"):
        export_soundscape(sc, out, manifest={"n": 2}, mix_format=fmt, stem_format="flac" if fmt == "flac" else "wav")
    assert _snapshot(out) == before  # nothing replaced, no temp file left
    assert "Traceback" not in capfd.readouterr().err  # libsndfile's callback did not print one


def test_ctrl_c_mid_export_leaves_nothing_behind(rendered, tmp_path, monkeypatch):
    import studio.mixing.wav as wav

    sc, _ = rendered
    out = tmp_path / "out"
    export_soundscape(sc, out, manifest={"n": 1}, stem_format="wav")
    before = _snapshot(out)
    real = wav.WavWriter.write
    calls = {"n": 0}

    def interrupted(self, x):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        real(self, x)

    monkeypatch.setattr(wav.WavWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_soundscape(sc, out, manifest={"n": 2}, stem_format="wav")
    assert _snapshot(out) == before


def test_a_failure_while_zipping_changes_nothing(rendered, tmp_path, monkeypatch):
    """The audio is complete when the zip fails, but nothing is renamed into place until every
    file (zip included) is: the folder still holds the whole earlier export."""
    import errno

    import studio.export as export

    sc, _ = rendered
    out = tmp_path / "out"
    export_soundscape(sc, out, manifest={"n": 1}, zip_name="all.zip")
    before = _snapshot(out)

    def broken_zip(af, members):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "_write_zip", broken_zip)
    with pytest.raises(ExportError, match="no partial file was left"):
        export_soundscape(sc, out, manifest={"n": 2}, zip_name="all.zip", mix_format="flac")
    assert _snapshot(out) == before


def test_unwritable_folder_is_a_clear_error(rendered, tmp_path, monkeypatch):
    import errno

    import studio.atomic as atomic

    sc, _ = rendered

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(ExportError, match="Permission denied; choose a folder you can write to"):
        export_soundscape(sc, tmp_path / "new" / "out", manifest={})
    assert not (tmp_path / "new").exists()


def test_output_path_that_is_a_file_is_a_clear_error(rendered, tmp_path):
    sc, _ = rendered
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(ExportError, match="exists and is not a folder"):
        export_soundscape(sc, tmp_path / "taken", manifest={})
    assert (tmp_path / "taken").read_text() == "not a folder"


def test_a_manifest_that_is_not_json_is_refused_before_writing(rendered, tmp_path):
    sc, _ = rendered
    with pytest.raises(ExportError, match="manifest cannot be written as JSON"):
        export_soundscape(sc, tmp_path / "out", manifest={"image": object()})
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt, fail_on, nth", [("mp3", "mix.mp3", 1), ("flac", "02-background-wind.flac", 2)])
def test_a_file_libsndfile_cannot_open_is_an_export_error_and_leaves_nothing(rendered, tmp_path, monkeypatch, fmt, fail_on, nth):
    sc, _ = rendered
    out = tmp_path / "out"
    export_soundscape(sc, out, manifest={"n": 1})
    before = _snapshot(out)
    real = sf.SoundFile
    opened = []

    def opener(file, mode="r", *args, **kwargs):
        if "w" in str(mode):
            opened.append(file)
            if len(opened) == nth:
                raise RuntimeError("Error opening <_io.BufferedRandom>: Format not recognised.")
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(sf, "SoundFile", opener)
    with pytest.raises(ExportError, match=f"cannot write {fail_on} as {fmt} .*choose another format"):
        export_soundscape(sc, out, manifest={"n": 2}, mix_format=fmt, stem_format="flac" if fmt == "flac" else "wav")
    assert _snapshot(out) == before  # no temp file of the opened stems or the mix is left
    assert not [p for p in out.rglob(".*")]
