"""Layer prompts phrased for each audio backend, and the Jinja2 planner prompts.

Each backend understands text differently:

- ``audiogen`` / ``audioldm2``: a short concrete sound description ("gentle rain on a tin
  roof, close"); AudioLDM2 also takes a negative prompt.
- ``musicgen``: musical descriptors: genre, instruments, key, tempo, mood. No negative prompt.
- ``stable-audio``: comma-separated tags with BPM and format words; takes a negative prompt.
- ``procedural`` and ``samples``: the prompt is for people reading the plan; the generator is
  chosen by ``params["type"]`` (a catalogue name).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from studio.sounds.catalogue import BY_NAME

if TYPE_CHECKING:  # pragma: no cover
    from studio.planning.styles import Style

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "prompt_templates"
BACKENDS_WITH_NEGATIVE = ("audioldm2", "stable-audio")
KNOWN_BACKENDS = ("procedural", "samples", "audiogen", "audioldm2", "musicgen", "stable-audio")
MAX_SOUND_CHARS = 160

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_text(text: Any, max_chars: int = MAX_SOUND_CHARS) -> str:
    """Printable one-line text, at most ``max_chars``: safe in a prompt and a manifest."""
    out = _CONTROL.sub(" ", str(text))
    out = re.sub(r"\s+", " ", out).strip()
    return out[:max_chars].strip()


def qualifiers(intensity: float, distance: float) -> list[str]:
    words = []
    if intensity <= 0.35:
        words.append("soft")
    elif intensity >= 0.75:
        words.append("intense")
    if distance >= 0.75:
        words.append("distant")
    elif distance <= 0.15:
        words.append("close")
    return words


def sound_phrase(type_name: str, *, sound: Optional[str], intensity: float, distance: float) -> str:
    """A short concrete description: the caption's own words when given, else the catalogue's."""
    base = clean_text(sound) if sound else ""
    if not base:
        base = BY_NAME[type_name].description
    extra = [w for w in qualifiers(intensity, distance) if w not in base.lower()]
    return ", ".join([base, *extra])


def musical_phrase(type_name: str, style: "Style", params: dict[str, Any]) -> str:
    """MusicGen wants genre, instruments, key, tempo and mood."""
    key = params.get("key", style.key)
    mode = params.get("mode", style.mode)
    if BY_NAME[type_name].category == "tonal":
        instrument = {
            "drone_pad": "warm analog synth pads and a low sustained drone",
            "singing_bowl": "tibetan singing bowls and soft bells",
            "wind_chimes": "gentle wind chimes and glass bells",
            "kalimba": "soft kalimba and handpan",
            "binaural_beats": "pure sine tones",
        }.get(type_name, "ambient synth pads")
        return f"ambient, {instrument}, {key} {mode}, {style.tempo_bpm} bpm, {style.mood}, no drums"
    return f"ambient soundscape, field recording texture of {BY_NAME[type_name].description}, {style.mood}, no drums, no vocals"


def tag_phrase(type_name: str, phrase: str, style: "Style", params: dict[str, Any]) -> str:
    """Stable Audio wants comma tags plus format words; tonal layers also get key and BPM."""
    tags = [t.strip() for t in phrase.split(",") if t.strip()]
    if BY_NAME[type_name].category == "tonal":
        tags += [f"{params.get('key', style.key)} {params.get('mode', style.mode)}", f"{style.tempo_bpm} BPM", "ambient"]
    else:
        tags += ["field recording", "ambience"]
    tags += ["stereo", "44.1kHz", "high quality"]
    return ", ".join(dict.fromkeys(tags))


def negative_prompt(type_name: str, backend: str, style: "Style") -> str:
    if backend not in BACKENDS_WITH_NEGATIVE:
        return ""
    words = ["low quality", "distortion", "clipping", "speech"]
    if BY_NAME[type_name].category != "tonal":
        words.append("music")
    if not style.allow_sudden:
        words.append("sudden loud noises")
    return ", ".join(words)


def layer_prompt(
    type_name: str,
    backend: str,
    style: "Style",
    *,
    sound: Optional[str] = None,
    intensity: float = 0.5,
    distance: float = 0.3,
    params: Optional[dict[str, Any]] = None,
) -> tuple[str, str]:
    """``(prompt, negative_prompt)`` for one layer, phrased for ``backend``."""
    params = params or {}
    phrase = sound_phrase(type_name, sound=sound, intensity=intensity, distance=distance)
    if backend == "musicgen":
        # A model-written description is kept and given the style's tempo and mood.
        prompt = f"{clean_text(sound)}, {style.tempo_bpm} bpm, {style.mood}" if sound else musical_phrase(type_name, style, params)
    elif backend == "stable-audio":
        prompt = tag_phrase(type_name, phrase, style, params)
    else:
        prompt = phrase
    return clean_text(prompt, 1000) or type_name, negative_prompt(type_name, backend, style)


# --------------------------------------------------------------------------- LLM prompts


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, **values: Any) -> str:
    """Render ``prompt_templates/<name>`` with ``values`` (StrictUndefined: a missing value fails)."""
    return _environment().get_template(name).render(**values).strip()


PHRASING = {
    "procedural": 'Write each "sound" as a short concrete sound description (at most 12 words: what makes the sound, on what, how near).',
    "samples": 'Write each "sound" as a short concrete sound description (at most 12 words).',
    "audiogen": 'Write each "sound" as a short concrete sound description (at most 12 words: source, surface, distance), e.g. "gentle rain on a tin roof, close".',
    "audioldm2": 'Write each "sound" as a short concrete sound description (at most 12 words: source, surface, distance), e.g. "waves breaking on a pebble beach".',
    "musicgen": 'Write each "sound" as musical descriptors: genre, instruments, tempo, mood, e.g. "ambient, warm synth pads, 60 bpm, calm".',
    "stable-audio": 'Write each "sound" as comma-separated tags, e.g. "rain, tin roof, close, field recording"; add BPM for tonal layers.',
}


def phrasing_rule(backend: str) -> str:
    """How the LLM should phrase each layer's ``sound`` for ``backend``."""
    return PHRASING.get(backend, PHRASING["procedural"])


def quote_data(text: str, max_chars: int = 600) -> str:
    """Untrusted text (caption, tags) made inert inside the ``<caption>`` data block: no
    control characters, no way to close the block, bounded length."""
    out = clean_text(text, max_chars)
    return re.sub(r"(?i)</?\s*caption\s*>", "", out).replace("```", "'''")
