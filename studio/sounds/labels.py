"""Sound-scene label vocabularies.

- :func:`vocabulary`: the labels for zero-shot image tagging (CLIP): the procedural catalogue's
  layer types (``studio.sounds.catalogue.CATALOGUE``) with readable labels, plus the 50 class
  names of ESC-50 (Piczak, 2015: the environmental sound classification benchmark). A label
  that names both (``crickets``) is one entry that points at both, so the planner can map a
  tag straight to a layer type.
- :func:`sound_sources`: everything the planner's semantic fallback matches an unknown noun
  phrase against: the catalogue, the recordings pack, ESC-50 and the AudioSet-style list in
  :mod:`studio.sounds.scene_sounds`, each with the catalogue types that are that sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

# ESC-50's class names exactly as the dataset spells them (meta/esc50.csv, column category).
ESC50_CLASSES: tuple[str, ...] = (
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
    "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds", "water_drops", "wind",
    "pouring_water", "toilet_flush", "thunderstorm",
    "crying_baby", "sneezing", "clapping", "breathing", "coughing", "footsteps", "laughing",
    "brushing_teeth", "snoring", "drinking_sipping",
    "door_wood_knock", "mouse_click", "keyboard_typing", "door_wood_creaks", "can_opening",
    "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick", "glass_breaking",
    "helicopter", "chainsaw", "siren", "car_horn", "engine", "train", "church_bells",
    "airplane", "fireworks", "hand_saw",
)  # fmt: skip

# Readable labels for catalogue layer types whose names are terse; others use the name with
# spaces. Labels are what users and the planner see, so they read as sound scenes.
CATALOGUE_LABELS: dict[str, str] = {
    "rain_light": "light rain",
    "rain_heavy": "heavy rain",
    "rain_on_roof": "rain on a roof",
    "ocean_surf": "ocean surf",
    "lake_lapping": "lake water lapping",
    "cave_drips": "cave drips",
    "wind_gusty": "gusty wind",
    "wind_leaves": "wind in leaves",
    "dawn_chorus": "dawn chorus",
    "insect_hum": "insect hum",
    "city_traffic": "city traffic",
    "cafe_murmur": "cafe murmur",
    "clock_ticking": "clock ticking",
    "footsteps_gravel": "footsteps on gravel",
    "drone_pad": "ambient drone",
    "singing_bowl": "singing bowl",
    "wind_chimes": "wind chimes",
    "binaural_beats": "binaural beats",
    "white_noise": "white noise",
    "pink_noise": "pink noise",
    "brown_noise": "brown noise",
}

# ESC-50 classes that are the same sound as a catalogue type (merged into one entry).
ESC50_TO_LAYER: dict[str, str] = {
    "crickets": "crickets",
    "frog": "frogs",
    "sea_waves": "ocean_surf",
    "crackling_fire": "campfire",
    "chirping_birds": "songbirds",
    "train": "train",
    "rain": "rain_light",
    "wind": "breeze",
    "water_drops": "cave_drips",
    "thunderstorm": "thunder",
    "clock_tick": "clock_ticking",
    "footsteps": "footsteps_gravel",
    "insects": "insect_hum",
}

# What a picture of each sound source looks like, for the CLIP text side. Sounds without a
# visible source (noise colours, binaural beats) still get a prompt; they rarely win.
_VISUAL: dict[str, str] = {
    "rain_light": "light rain falling outdoors",
    "rain_heavy": "a heavy rainstorm downpour",
    "rain_on_roof": "rain on a roof or a wet window",
    "ocean_surf": "ocean waves breaking on a beach",
    "lake_lapping": "a calm lake shore",
    "stream": "a small stream over stones",
    "river": "a flowing river",
    "waterfall": "a waterfall",
    "cave_drips": "the inside of a cave",
    "breeze": "a breezy open landscape",
    "wind_gusty": "a windswept stormy landscape",
    "wind_leaves": "trees with leaves in the wind",
    "thunder": "a thunderstorm with dark clouds and lightning",
    "campfire": "a crackling campfire",
    "songbirds": "songbirds in trees",
    "dawn_chorus": "a forest at sunrise",
    "seagulls": "seagulls over a harbour",
    "owl": "an owl in a dark forest at night",
    "crickets": "a grassy field on a warm night",
    "cicadas": "trees on a hot summer day",
    "frogs": "a pond or marsh",
    "insect_hum": "a meadow with flowers and bees",
    "city_traffic": "a city street with cars",
    "cafe_murmur": "people in a busy cafe",
    "clock_ticking": "a clock in a quiet room",
    "footsteps_gravel": "a gravel path",
    "drone_pad": "a calm abstract ambient scene",
    "singing_bowl": "a tibetan singing bowl",
    "wind_chimes": "wind chimes on a porch",
    "kalimba": "a kalimba or handpan",
    "binaural_beats": "a person meditating with headphones",
    "white_noise": "television static",
    "pink_noise": "a soft blurred texture",
    "brown_noise": "a dark blurred texture",
}


@dataclass(frozen=True)
class SoundLabel:
    """One vocabulary entry: ``label`` (what is reported), ``prompt`` (the CLIP text),
    ``layer_type`` (catalogue name or None) and ``esc50`` (ESC-50 class or None)."""

    label: str
    prompt: str
    layer_type: Optional[str] = None
    esc50: Optional[str] = None


@lru_cache(maxsize=1)
def vocabulary() -> tuple[SoundLabel, ...]:
    """Catalogue types first (in catalogue order), then the ESC-50 classes not merged in."""
    from studio.sounds.catalogue import CATALOGUE

    merged = {layer: esc for esc, layer in ESC50_TO_LAYER.items()}
    entries: list[SoundLabel] = []
    for layer in CATALOGUE:
        label = CATALOGUE_LABELS.get(layer.name, layer.name.replace("_", " "))
        visual = _VISUAL.get(layer.name, label)
        entries.append(SoundLabel(label, f"a photo of {visual}", layer.name, merged.get(layer.name)))
    taken = {e.label for e in entries}
    for esc in ESC50_CLASSES:
        if esc in ESC50_TO_LAYER:
            continue
        label = esc.replace("_", " ")
        if label in taken:  # pragma: no cover - guarded by a test
            continue
        entries.append(SoundLabel(label, f"a photo of {_esc_visual(esc)}", None, esc))
    return tuple(entries)


def labels() -> list[str]:
    return [e.label for e in vocabulary()]


def entry_for_label(label: str) -> Optional[SoundLabel]:
    """The vocabulary entry for a reported tag label (None when unknown)."""
    for entry in vocabulary():
        if entry.label == label:
            return entry
    return None


def layer_type_for_label(label: str) -> Optional[str]:
    """The catalogue layer type a tag label stands for, if any (``"sea waves"`` -> None,
    ``"ocean surf"`` -> ``"ocean_surf"``)."""
    entry = entry_for_label(label)
    return entry.layer_type if entry else None


_ESC_VISUAL = {
    "hen": "a hen", "insects": "insects", "crow": "a crow", "rain": "rain",
    "door_wood_knock": "a hand knocking on a wooden door", "door_wood_creaks": "an old wooden door",
    "mouse_click": "a computer mouse", "keyboard_typing": "hands typing on a keyboard",
    "can_opening": "a drink can being opened", "crying_baby": "a crying baby",
    "drinking_sipping": "a person drinking", "brushing_teeth": "a person brushing teeth",
    "pouring_water": "water being poured", "toilet_flush": "a toilet", "clock_alarm": "an alarm clock",
    "glass_breaking": "breaking glass", "church_bells": "church bells in a tower",
    "car_horn": "a car honking in traffic", "engine": "a running engine", "hand_saw": "a hand saw cutting wood",
    "washing_machine": "a washing machine", "vacuum_cleaner": "a vacuum cleaner",
    "fireworks": "fireworks in the night sky", "sneezing": "a person sneezing",
    "coughing": "a person coughing", "laughing": "people laughing", "clapping": "people clapping",
    "breathing": "a person breathing calmly", "snoring": "a person snoring in bed",
}  # fmt: skip


def _esc_visual(esc: str) -> str:
    if esc in _ESC_VISUAL:
        return _ESC_VISUAL[esc]
    word = esc.replace("_", " ")
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


@dataclass(frozen=True)
class SoundSource:
    """One entry of the fallback vocabulary: ``label`` (named in plan notes), ``text`` (what
    is embedded), ``types`` (catalogue names that are this sound, best first; names the
    catalogue does not have yet are kept so they apply once added), ``kind`` (``catalogue``,
    ``recording``, ``esc50`` or ``scene``) and ``recording`` (pack name, for recordings)."""

    label: str
    text: str
    types: tuple[str, ...]
    kind: str
    recording: Optional[str] = None
    stand_ins: tuple[str, ...] = ()  # types that come nearest when none of ``types`` exists


def sound_sources() -> tuple[SoundSource, ...]:
    """The catalogue, the recordings pack, ESC-50 and the AudioSet-style list, in that order.

    Read fresh from the data modules on each call (cheap), so a type added to the catalogue is
    matched without a code change; callers cache what they embed.
    """
    from studio.sounds.catalogue import CATALOGUE
    from studio.sounds.recordings import RECORDINGS
    from studio.sounds.scene_sounds import scene_sounds

    out = [
        SoundSource(CATALOGUE_LABELS.get(t.name, t.name.replace("_", " ")), t.description, (t.name,), "catalogue")
        for t in CATALOGUE
    ]
    out += [SoundSource(r.name.replace("-", " "), r.description, r.layer_types, "recording", r.name) for r in RECORDINGS]
    scene = scene_sounds()
    scene_labels = {s.label for s in scene}
    for esc in ESC50_CLASSES:
        label = esc.replace("_", " ")
        if esc in ESC50_TO_LAYER:
            out.append(SoundSource(label, f"the sound of {label}", (ESC50_TO_LAYER[esc],), "esc50"))
        elif label not in scene_labels:  # the scene list describes it (with its types) already
            out.append(SoundSource(label, f"the sound of {label}", (), "esc50"))
    out += [SoundSource(s.label, s.description, s.types, "scene", None, s.stand_ins) for s in scene]
    return tuple(out)
