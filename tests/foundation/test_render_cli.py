"""End to end: `python -m studio render` on an example image, offline defaults.

One 60-second render (in a subprocess, exactly as a user runs it) is shared by the tests that
check its files; a re-render from its manifest must be byte-identical.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from studio.mixing.bass import BASS_MONO_HZ, BassMono

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples" / "images").iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


def true_peak_dbtp(samples: np.ndarray) -> float:
    """4x oversampled peak in dBTP; samples (channels, frames)."""
    from scipy.signal import resample_poly

    up = resample_poly(samples.astype(np.float64), 4, 1, axis=1)
    return 20 * np.log10(max(np.abs(up).max(), 1e-12))


def lufs(samples: np.ndarray, sample_rate: int) -> float:
    import pyloudnorm

    return pyloudnorm.Meter(sample_rate).integrated_loudness(samples.T.astype(np.float64))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    proc = run_cli("render", str(EXAMPLES[0]), "--seconds", "60", "--seed", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def test_example_images_exist_with_sources():
    assert len(EXAMPLES) >= 3
    sources = (ROOT / "examples" / "images" / "SOURCES.md").read_text()
    for image in EXAMPLES:
        assert image.name in sources


def test_mix_format_length_loudness_and_peak(rendered):
    out, summary = rendered
    info = sf.info(out / "mix.wav")
    assert (info.samplerate, info.channels, info.frames) == (48000, 2, 60 * 48000)
    mix, sr = sf.read(out / "mix.wav", always_2d=True, dtype="float64")
    manifest = json.loads((out / "manifest.json").read_text())
    target = manifest["plan"]["master"]["target_lufs"]
    assert target == -18.0  # the meditation style's target
    assert abs(lufs(mix.T, sr) - target) <= 0.5
    assert true_peak_dbtp(mix.T) <= -1.0 + 0.05  # 24-bit rounding allowance
    assert np.isfinite(mix).all()
    assert summary["duration_s"] == 60


def test_stems_are_named_full_length_and_sum_to_the_mix(rendered):
    out, _ = rendered
    manifest = json.loads((out / "manifest.json").read_text())
    layers = manifest["plan"]["layers"]
    stems = sorted((out / "stems").glob("*.flac"))  # FLAC 24-bit by default
    expected = [f"{i + 1:02d}-{layer['role']}-{layer['name']}.flac" for i, layer in enumerate(layers)]
    assert [p.name for p in stems] == expected
    total = None
    for path in stems:
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.frames) == (48000, 2, 60 * 48000)
        data, _ = sf.read(path, always_2d=True, dtype="float64")
        total = data if total is None else total + data
    mix, _ = sf.read(out / "mix.wav", always_2d=True, dtype="float64")
    master = manifest["master"]
    # the master makes the summed bass mono (docs/mixing.md), a linear filter on the sum
    assert master["bass_mono_hz"] == BASS_MONO_HZ
    # Stems are printed at mix level (the slow ride and the master gain are in them), so none clips.
    assert not manifest["export"].get("stems_clipped")
    total = BassMono(48000).process(total.T.astype(np.float32)).T.astype(np.float64)
    gain = 1.0
    plan_master = manifest["plan"]["master"]
    a = int(plan_master["fade_in_s"] * 48000) + 4800
    b = len(mix) - int(plan_master["fade_out_s"] * 48000) - 4800
    expected_mix = total[a:b] * gain
    got = mix[a:b]
    # The limiter only ever reduces level, by at most its reported maximum reduction.
    max_red = 10 ** (-master["limiter_max_reduction_db"] / 20)
    err = got - expected_mix
    assert np.abs(got).max() <= np.abs(expected_mix).max() + 1e-4
    assert np.sqrt(np.mean(err**2)) <= (1 - max_red) * np.sqrt(np.mean(expected_mix**2)) + 1e-4
    assert np.corrcoef(got.ravel(), expected_mix.ravel())[0, 1] > 0.99


def test_rerender_from_manifest_is_byte_identical_and_keeps_the_image_facts(rendered, tmp_path):
    out, _ = rendered
    proc = run_cli("render", "--manifest", str(out / "manifest.json"), "--out", str(tmp_path / "again"))
    assert proc.returncode == 0, proc.stderr
    again = tmp_path / "again"
    assert (again / "mix.wav").read_bytes() == (out / "mix.wav").read_bytes()
    for stem in (out / "stems").iterdir():
        assert (again / "stems" / stem.name).read_bytes() == stem.read_bytes()
    first, second = (json.loads((d / "manifest.json").read_text()) for d in (out, again))
    assert first["image"]["filename"] == EXAMPLES[0].name
    assert second["image"] == first["image"]  # the image information is carried over
    assert (again / "manifest.json").read_bytes() == (out / "manifest.json").read_bytes()


def _render_caption(tmp_path: Path, name: str, seed: int) -> bytes:
    out = tmp_path / name
    code = main(["render", "--caption", "a calm lake in a forest", "--seconds", "8", "--seed", str(seed), "--out", str(out), "--quiet"])
    assert code == 0
    return (out / "mix.wav").read_bytes()


def test_same_seed_same_output_different_seed_different(tmp_path, capsys):
    first = _render_caption(tmp_path, "a", 11)
    again = _render_caption(tmp_path, "b", 11)
    other = _render_caption(tmp_path, "c", 12)
    assert first == again
    assert first != other


def _bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    text_jpg = tmp_path / "notes.jpg"
    text_jpg.write_text("this is not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.jpg"
    from PIL import Image

    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(truncated, quality=90)
    truncated.write_bytes(truncated.read_bytes()[:300])
    good = str(EXAMPLES[0])
    return {
        "missing file": [str(tmp_path / "nope.jpg")],
        "non-image file": [str(text_jpg)],
        "zero-byte file": [str(empty)],
        "truncated jpeg": [str(truncated)],
        "zero duration": [good, "--seconds", "0"],
        "negative duration": [good, "--seconds", "-5"],
        "absurd duration": [good, "--minutes", "100000"],
        "not a number": [good, "--seconds", "nan"],
        "unknown style": [good, "--style", "polka"],
        "bad seed": [good, "--seed", "-1"],
    }


@pytest.mark.parametrize("case", list(_bad_inputs(Path("/tmp")).keys()))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    args = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    code = main(["render", *args, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    proc = run_cli("render", str(tmp_path / "missing.png"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "missing.png" in proc.stderr
    proc = run_cli("render", str(EXAMPLES[0]), "--seconds", "10", "--minutes", "1", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_empty_caption_is_named_as_the_problem(tmp_path, capsys):
    code = main(["render", "--caption", "", "--seconds", "5", "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2
    assert "the caption is empty" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_existing_render_is_kept_unless_overwrite_is_given(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["render", "--caption", "rain on a roof, a crackling fire, an owl and crickets", "--seconds", "6",
            "--seed", "1", "--quiet", "--out", str(out)]
    assert main(args) == 0
    first_mix = (out / "mix.wav").read_bytes()
    old_stems = sorted(p.name for p in (out / "stems").iterdir())
    assert len(old_stems) >= 2
    capsys.readouterr()

    fewer = ["render", "--caption", "pink noise", "--seconds", "6", "--seed", "1", "--quiet", "--out", str(out)]
    assert main(fewer) == 2
    err = capsys.readouterr().err
    assert "already holds a render" in err and "--overwrite" in err
    assert (out / "mix.wav").read_bytes() == first_mix  # nothing lost
    assert sorted(p.name for p in (out / "stems").iterdir()) == old_stems

    assert main([*fewer, "--overwrite"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(p.name for p in (out / "stems").iterdir()) == sorted(
        Path(s).name for s in manifest["outputs"]["stems"]
    )
    assert len(manifest["outputs"]["stems"]) < len(old_stems)


def test_a_lossy_mix_reports_what_the_file_decodes_to(tmp_path, capsys):
    from studio.mixing.lossy import measure_decoded

    out = tmp_path / "mp3"
    code = main(["render", "--caption", "ocean surf on a rocky beach", "--style", "focus", "--seconds", "10",
                 "--mix-format", "mp3", "--out", str(out), "--quiet"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    decoded = measure_decoded(out / "mix.mp3")
    assert decoded.true_peak_dbtp <= -1.0 + 1e-3
    assert summary["decoded_mix"]["decoded_true_peak_dbtp"] == pytest.approx(decoded.true_peak_dbtp, abs=1e-3)
    assert summary["decoded_mix"]["decoded_lufs"] == pytest.approx(decoded.lufs, abs=1e-3)
    assert json.loads((out / "manifest.json").read_text())["export"]["mix_lossy"]["within_ceiling"] is True
