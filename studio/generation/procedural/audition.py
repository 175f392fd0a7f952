"""The audition catalogue: a clip, a spectrogram and an HTML player for every layer type.

``write_catalogue(out_dir)`` writes ``<type>.wav`` (48 kHz stereo, 24-bit), ``<type>.png``
(spectrogram of the mid channel, 0-16 kHz, dB) and ``index.html`` (one ``<audio>`` player,
description, spectrogram and measured level per type). Every file is written atomically.
Used by ``python -m studio catalogue --out DIR``.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from studio.errors import ExportError, InputError
from studio.sounds.catalogue import BY_NAME, CATALOGUE
from studio.types import Progress


def _spectrogram_png(samples: np.ndarray, sr: int, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt
    from scipy import signal

    mid = samples.mean(axis=0)
    f, t, sxx = signal.spectrogram(mid, fs=sr, nperseg=2048, noverlap=1024, scaling="spectrum")
    keep = f <= 16000
    db = 10 * np.log10(sxx[keep] + 1e-12)
    top = float(db.max()) if db.size else 0.0
    fig, ax = plt.subplots(figsize=(8, 3), dpi=80)
    ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=top - 80, vmax=top,
              extent=(float(t[0]) if len(t) else 0.0, float(t[-1]) if len(t) else 0.0, 0.0, float(f[keep][-1]) / 1000))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("kHz")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _wav_bytes(samples: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples.T, sr, format="WAV", subtype="PCM_24")
    return buf.getvalue()


AUDITION_CEILING_DBTP = -1.0


def _under_true_peak(x: np.ndarray) -> np.ndarray:
    """``x`` scaled down (never up) so its true peak (the project's 4x meter,
    :func:`studio.mixing.loudness.true_peak_dbtp`) is at most :data:`AUDITION_CEILING_DBTP`
    less 0.05 dB for the 24-bit rounding: a sample peak of -1 dBFS can hide inter-sample peaks
    over 0 dBTP on transient types."""
    from studio.mixing.loudness import true_peak_dbtp

    over = true_peak_dbtp(x) - (AUDITION_CEILING_DBTP - 0.05)
    return x if over <= 0 else (x * np.float32(10.0 ** (-over / 20.0))).astype(np.float32)


def write_catalogue(
    out_dir: str | Path,
    *,
    types: Optional[Iterable[str]] = None,
    seconds: float = 10.0,
    seed: int = 0,
    progress: Optional[Progress] = None,
) -> dict[str, Any]:
    """Render ``seconds`` of each type (default: all 34) into ``out_dir``.

    Returns ``{"index": Path, "types": {name: {"wav", "png", "rms_dbfs", "peak_dbfs"}}}``.
    Raises :class:`InputError` for an unknown type or a bad length, :class:`ExportError`
    when ``out_dir`` cannot be written.
    """
    from studio.atomic import write_bytes_atomic
    from studio.generation.procedural import ProceduralBackend

    names = list(types) if types is not None else [t.name for t in CATALOGUE]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise InputError(f"unknown layer type(s) {', '.join(unknown)}; choose from: {', '.join(BY_NAME)}")
    if not names:
        raise InputError("no layer types to render; give at least one")
    if not 0.5 <= float(seconds) <= 600:
        raise InputError(f"catalogue clip length must be 0.5..600 seconds; got {seconds}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror or exc}") from None
    backend = ProceduralBackend()
    cb = progress or (lambda f, m: None)
    results: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names):
        cb(k / len(names), f"rendering {name}")
        clip = backend.generate(name, duration_s=seconds, seed=seed, type=name)
        x = _under_true_peak(clip.samples)
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
        peak = float(np.max(np.abs(x)))
        try:
            wav = write_bytes_atomic(out / f"{name}.wav", _wav_bytes(x, clip.sample_rate))
            png = write_bytes_atomic(out / f"{name}.png", _spectrogram_png(x, clip.sample_rate, name))
        except OSError as exc:
            raise ExportError(f"cannot write into {out}: {exc.strerror or exc}") from None
        results[name] = {
            "wav": wav,
            "png": png,
            "rms_dbfs": round(20 * np.log10(rms + 1e-12), 1),
            "peak_dbfs": round(20 * np.log10(peak + 1e-12), 1),
        }
    index = write_bytes_atomic(out / "index.html", _index_html(results, seconds, seed).encode("utf-8"))
    cb(1.0, "catalogue written")
    return {"index": index, "types": results}


def _index_html(results: dict[str, dict[str, Any]], seconds: float, seed: int) -> str:
    rows = []
    for name, r in results.items():
        lt = BY_NAME[name]
        rows.append(
            f'<section id="{html.escape(name)}"><h2>{html.escape(name)} '
            f'<small>{html.escape(lt.category)} · {html.escape(lt.default_role)}</small></h2>'
            f"<p>{html.escape(lt.description)}</p>"
            f'<audio controls preload="none" src="{html.escape(r["wav"].name)}"></audio>'
            f'<p class="m">RMS {r["rms_dbfs"]} dBFS · peak {r["peak_dbfs"]} dBFS</p>'
            f'<img src="{html.escape(r["png"].name)}" alt="spectrogram of {html.escape(name)}" loading="lazy"></section>'
        )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Soundscape Studio: procedural catalogue</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;background:#111;color:#ddd}"
        "section{border-top:1px solid #333;padding:.5em 0}small{color:#888;font-weight:normal}"
        "img{max-width:100%}.m{color:#888;font-size:.9em}audio{width:100%}</style></head><body>"
        f"<h1>Procedural catalogue</h1><p>{len(results)} layer types, {seconds:g} s each, seed {seed}, "
        "48 kHz stereo. Generated by <code>python -m studio catalogue</code>.</p>"
        + "".join(rows)
        + "</body></html>"
    )
