"""The bundled recordings pack: every entry's file is there, is what its entry says, and is credited."""

import numpy as np
import soundfile as sf

from studio.sounds.catalogue import BY_NAME as CATALOGUE_TYPES
from studio.sounds.recordings import PACK_DIR, RECORDINGS, for_layer_type, recording


def test_every_recording_file_matches_its_entry():
    assert len(RECORDINGS) == 11
    for rec in RECORDINGS:
        info = sf.info(str(rec.path))
        assert info.channels == 2, rec.name
        assert abs(info.duration - rec.duration_s) < 0.2, (rec.name, info.duration)


def test_every_file_in_the_pack_has_an_entry_and_a_credit_row():
    files = {p.name for p in PACK_DIR.glob("*.ogg")}
    assert files == {r.file for r in RECORDINGS}
    credits = (PACK_DIR / "CREDITS.md").read_text()
    for rec in RECORDINGS:
        assert rec.file in credits and rec.author in credits
        line = rec.credit_line()
        assert rec.author in line and rec.licence in line and rec.source_url in line


def test_layer_type_links_name_real_catalogue_types():
    for rec in RECORDINGS:
        for name in rec.layer_types:
            assert name in CATALOGUE_TYPES, (rec.name, name)
    assert [r.name for r in for_layer_type("ocean_surf")] == ["waves"]
    assert recording("rain").needs_attribution and not recording("birds").needs_attribution


def test_recorded_loudness_matches_the_meter():
    from studio.mixing.loudness import integrated_lufs

    for rec in RECORDINGS:
        data, rate = sf.read(str(rec.path), dtype="float32", always_2d=True)
        assert abs(integrated_lufs(data.T, rate) - rec.loudness_lufs) < 0.05, rec.name


def test_recorded_peak_matches_the_file_at_the_studio_rate():
    from studio.evaluation.clap import resample

    for rec in RECORDINGS:
        data, rate = sf.read(str(rec.path), dtype="float32", always_2d=True)
        peak = max(np.abs(data).max(), np.abs(resample(data.T, rate, 48_000)).max())
        assert rec.peak_dbfs - 0.011 <= 20 * np.log10(peak) <= rec.peak_dbfs, rec.name
