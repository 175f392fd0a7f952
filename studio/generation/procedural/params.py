"""Parameter resolution for the procedural backend: validation, prompt-word hints, music theory.

Known parameters (all optional, and ``None`` means absent; unknown keys are ignored because
the pipeline passes every backend the same ``LayerSpec.params``):

================  ==========================================  =========================
name              meaning                                     allowed / default
================  ==========================================  =========================
type              catalogue generator name                    one of the 40 names
intensity         how strong / loud-sounding the source is    0..1, 0.5
distance          0 close .. 1 far (air absorption, wetter)   0..1, 0.3
brightness        spectral tilt, 0 dark .. 1 bright           0..1, 0.5
density           how busy (drops, birds, events)             0..1, 0.5
events_per_min    rate of a type's internal events            0.1..600, per type
key, mode         tonal types: root note and mode             "C".."B" with #/b; see MODES
fundamental_hz    tonal root (overrides key)                  20..2000
band              binaural preset                             delta, theta, alpha, beta
beat_hz           binaural beat (overrides band)              0.5..40
carrier_hz        binaural carrier                            60..1000, 200
breaths_per_min   breathing-pace swell on any bed             2..30 (absent = off)
breath_depth      how deep the swell dips                     0..1, 0.5
loop              seamless end-to-start loop                  bool, False
as_event          one event decaying to silence (wins over    bool, False
                  loop)
================  ==========================================  =========================
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from studio.errors import InputError

UNIT_PARAMS = ("intensity", "distance", "brightness", "density")
UNIT_DEFAULTS = {"intensity": 0.5, "distance": 0.3, "brightness": 0.5, "density": 0.5}

BANDS = {"delta": 2.0, "theta": 6.0, "alpha": 10.0, "beta": 18.0}

# Semitone offsets of each mode's scale degrees from the root.
MODES: dict[str, tuple[int, ...]] = {
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "major": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
}
_NOTE_RE = re.compile(r"^([A-Ga-g])([#b♯♭]?)$")
_NOTE_BASE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# Words in a prompt that move a default when the parameter was not given explicitly.
# Each entry: regex -> {param: value}. Later matches override earlier ones.
HINTS: tuple[tuple[str, dict[str, float]], ...] = (
    (r"\b(soft|gentle|light|quiet|calm|faint|mild|delicate|drizzl\w*|lapping|hushed)\b", {"intensity": 0.25}),
    (r"\b(heavy|strong|loud|intense|pouring|roaring|torrential|powerful|storm\w*|howling)\b", {"intensity": 0.85}),
    (r"\b(distant|far|faraway|remote|far-off|afar|muffled)\b", {"distance": 0.8}),
    (r"\b(close|near|nearby|intimate|up-close)\b", {"distance": 0.05}),
    (r"\b(bright|sparkling|crisp|shimmering|airy|brilliant)\b", {"brightness": 0.8}),
    (r"\b(dark|deep|warm|mellow|low)\b", {"brightness": 0.25}),
    (r"\b(sparse|occasional|rare|few|sporadic|lone|single)\b", {"density": 0.2}),
    (r"\b(dense|many|busy|crowded|lots|thick|chorus)\b", {"density": 0.8}),
    (r"\b(slow|slowly|lazy|sleepy)\b", {"density": 0.3}),
    (r"\b(fast|quick|rapid|hurried|lively)\b", {"density": 0.75}),
)


# "6 breaths a minute", "4.5 breaths per min", "breathing swell" / "breathing pace" (6 a minute)
_BREATHS_RE = re.compile(r"(\d+(?:\.\d+)?)\s*breaths?\s*(?:a|per|/|each)\s*min(?:ute)?s?\b")
_BREATHING_RE = re.compile(r"\bbreath(?:ing)?[- ](?:swell|pace|paced)\b")
DEFAULT_BREATHS_PER_MIN = 6.0


def breathing_hint(prompt: str) -> float | None:
    """Breaths a minute asked for in the prompt (``"6 breaths a minute"``; a bare
    ``"breathing swell"`` is 6), or None. The value is range-checked by :func:`resolve_params`."""
    text = str(prompt).lower()
    m = _BREATHS_RE.search(text)
    if m:
        return float(m.group(1))
    return DEFAULT_BREATHS_PER_MIN if _BREATHING_RE.search(text) else None


def note_to_semitone(key: str) -> int:
    m = _NOTE_RE.match(str(key).strip())
    if not m:
        raise InputError(f"key must be a note name A-G with an optional # or b (e.g. 'D', 'F#', 'Bb'); got {key!r}")
    base = _NOTE_BASE[m.group(1).upper()]
    acc = m.group(2)
    return (base + (1 if acc in ("#", "♯") else -1 if acc in ("b", "♭") else 0)) % 12


def note_hz(semitone_from_c: int, octave: int) -> float:
    """Equal-tempered frequency, A4 = 440 Hz; ``semitone_from_c`` 0 = C."""
    midi = 12 * (octave + 1) + semitone_from_c
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def scale_hz(root_hz: float, mode: str, degrees: range | list[int]) -> list[float]:
    """Frequencies of scale ``degrees`` (0 = root, may exceed one octave) above ``root_hz``."""
    steps = MODES[mode]
    out = []
    for d in degrees:
        octave, idx = divmod(int(d), len(steps))
        out.append(root_hz * 2.0 ** (octave + steps[idx] / 12.0))
    return out


def _number(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number between {lo:g} and {hi:g}; got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number between {lo:g} and {hi:g}; got {value!r}") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise InputError(f"{name} must be between {lo:g} and {hi:g}; got {value!r}")
    return v


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        return value.strip().lower() in ("true", "yes", "1", "on")
    raise InputError(f"{name} must be true or false; got {value!r}")


def prompt_hints(prompt: str) -> dict[str, float]:
    """Parameter defaults suggested by words in the prompt (``soft`` → intensity 0.25, ...)."""
    text = str(prompt).lower()
    out: dict[str, float] = {}
    for pattern, values in HINTS:
        if re.search(pattern, text):
            out.update(values)
    return out


def resolve_params(prompt: str, params: Mapping[str, Any], *, type_name: str, default_events_per_min: float | None) -> dict[str, Any]:
    """Validate known keys and fill defaults. Explicit values win over prompt hints, which win
    over defaults. Returns a JSON-friendly dict (recorded in stem metadata)."""
    hints = prompt_hints(prompt)
    params = {k: v for k, v in params.items() if v is not None}  # JSON null = not given
    out: dict[str, Any] = {"type": type_name}
    for name in UNIT_PARAMS:
        if params.get(name) is not None:
            out[name] = _number(name, params[name], 0.0, 1.0)
        else:
            out[name] = hints.get(name, UNIT_DEFAULTS[name])
    if params.get("events_per_min") is not None:
        out["events_per_min"] = _number("events_per_min", params["events_per_min"], 0.1, 600.0)
    elif default_events_per_min is not None:
        # density 0..1 scales a type's natural rate by 0.5x..2x
        out["events_per_min"] = round(default_events_per_min * 2.0 ** ((out["density"] - 0.5) * 2.0), 4)
    key = params.get("key")
    out["key"] = "D" if key is None else str(key).strip()
    note_to_semitone(out["key"])
    mode = str(params.get("mode", "dorian")).strip().lower()
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}; got {params.get('mode')!r}")
    out["mode"] = mode
    if params.get("fundamental_hz") is not None:
        out["fundamental_hz"] = _number("fundamental_hz", params["fundamental_hz"], 20.0, 2000.0)
    band = params.get("band")
    if band is not None:
        band = str(band).strip().lower()
        if band not in BANDS:
            raise InputError(f"band must be one of {', '.join(BANDS)}; got {params.get('band')!r}")
    if params.get("beat_hz") is not None:
        out["beat_hz"] = _number("beat_hz", params["beat_hz"], 0.5, 40.0)
    else:
        out["beat_hz"] = BANDS[band or "alpha"]
    out["band"] = band
    out["carrier_hz"] = _number("carrier_hz", params.get("carrier_hz", 200.0), 60.0, 1000.0)
    notes: list[str] = []
    if params.get("breaths_per_min") is not None:
        out["breaths_per_min"] = _number("breaths_per_min", params["breaths_per_min"], 2.0, 30.0)
    else:
        hinted = breathing_hint(prompt)
        if hinted is not None and 2.0 <= hinted <= 30.0:
            out["breaths_per_min"] = hinted
        elif hinted is not None:
            # words in a prompt are a hint, not a setting: an odd number never stops a render
            notes.append(f"breathing swell off: the prompt asks for {hinted:g} breaths a minute; the swell takes 2 to 30")
    out["breath_depth"] = _number("breath_depth", params.get("breath_depth", 0.5), 0.0, 1.0)
    out["loop"] = _flag("loop", params.get("loop", False))
    out["as_event"] = _flag("as_event", params.get("as_event", False))
    if out["loop"] and out["as_event"]:
        # the pipeline sets as_event on foreground layers whatever else the plan says: an
        # event decays to silence, so it cannot loop; as_event wins and the note says so
        out["loop"] = False
        notes.append("loop ignored: as_event renders one event that decays to silence")
    if notes:
        out["note"] = "; ".join(notes)
    return out


def root_hz(p: Mapping[str, Any], octave: int) -> float:
    """The tonal root: ``fundamental_hz`` if given, else the key's note in ``octave``."""
    if p.get("fundamental_hz") is not None:
        return float(p["fundamental_hz"])
    return note_hz(note_to_semitone(p["key"]), octave)
