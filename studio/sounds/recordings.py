"""The starter pack of real field recordings that ships with the studio.

The files live in ``studio/sounds/pack/`` (Ogg Vorbis, 44.1 kHz stereo except the train at
24 kHz). They are the Blanket ambient-sound app's edits of Freesound and SoundBible recordings;
each one is CC0, public domain or CC BY, and CC BY needs the author and licence next to any
published work, so every export that uses one carries its :class:`Recording` credit
(``CREDITS.txt`` and the manifest's ``credits`` list). ``pack/CREDITS.md`` is the same table
for people reading the folder.

``description`` is one line written for sentence-embedding matching (like the catalogue's);
``layer_types`` names the procedural catalogue types the recording can stand in for, so the
planner can choose per layer between a recording and synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent / "pack"


@dataclass(frozen=True)
class Recording:
    name: str  # stable id, the file's stem
    file: str  # file name inside PACK_DIR
    description: str
    layer_types: tuple[str, ...]  # catalogue types this recording can replace
    author: str
    licence: str  # "CC0", "Public Domain", "CC BY 3.0", ...
    licence_url: str
    source_url: str
    duration_s: float
    loudness_lufs: float  # BS.1770 integrated loudness of the whole file (studio.mixing.loudness)
    peak_dbfs: float  # sample peak of the file and of it resampled to 48 kHz, the larger, rounded up

    @property
    def path(self) -> Path:
        return PACK_DIR / self.file

    @property
    def needs_attribution(self) -> bool:
        return self.licence.startswith("CC BY")

    def credit_line(self) -> str:
        """One line for CREDITS.txt and the UI: what, who, licence, where from."""
        return f'"{self.name}" by {self.author}, {self.licence} ({self.licence_url}), {self.source_url}'

    def credit(self) -> dict[str, str]:
        """The manifest's ``credits`` entry."""
        return {
            "recording": self.name,
            "file": self.file,
            "author": self.author,
            "licence": self.licence,
            "licence_url": self.licence_url,
            "source_url": self.source_url,
        }


_CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
_PD = "https://creativecommons.org/publicdomain/mark/1.0/"
_BY = "https://creativecommons.org/licenses/by/4.0/"  # SOURCES.md gives "CC BY"; the version is on each source page
_BY3 = "https://creativecommons.org/licenses/by/3.0/"

RECORDINGS: tuple[Recording, ...] = (
    Recording("birds", "birds.ogg", "songbirds chirping and singing in a spring forest, birdsong in trees",
              ("songbirds", "dawn_chorus"), "kvgarlic (edit: Porrumentzio)", "CC0", _CC0,
              "https://freesound.org/people/kvgarlic/sounds/156826/", 129.8, -27.99, -12.41),
    Recording("boat", "boat.ogg", "water lapping against a wooden boat, creaking hull at a calm shore",
              ("lake_lapping",), "Falcet (edit: Porrumentzio)", "CC0", _CC0,
              "https://freesound.org/people/Falcet/sounds/439365/", 41.6, -30.62, -6.1),
    Recording("wind", "wind.ogg", "wind blowing outdoors, gusts of moving air",
              ("breeze", "wind_gusty"), "felix.blume (edit: Porrumentzio)", "CC0", _CC0,
              "https://freesound.org/people/felix.blume/sounds/217506/", 14.8, -27.6, -11.04),
    Recording("coffee-shop", "coffee-shop.ogg", "busy coffee shop or restaurant ambience, people talking, cups and plates",
              ("cafe_murmur",), "stephan", "Public Domain", _PD,
              "https://soundbible.com/1664-Restaurant-Ambiance.html", 16.7, -22.73, -9.33),
    Recording("fireplace", "fireplace.ogg", "crackling fireplace or campfire, burning wood popping",
              ("campfire",), "ezwa", "Public Domain", _PD,
              "https://soundbible.com/1543-Fireplace.html", 25.5, -38.8, -9.26),
    Recording("summer-night", "summer-night.ogg", "crickets chirping on a warm summer night",
              ("crickets",), "Lisa Redfern", "Public Domain", _PD,
              "https://soundbible.com/2083-Crickets-Chirping-At-Night.html", 49.3, -26.71, -15.52),
    Recording("rain", "rain.ogg", "steady rain falling on leaves and ground, rainfall outdoors",
              ("rain_light", "rain_heavy"), "alex36917 (edit: Porrumentzio)", "CC BY", _BY,
              "https://freesound.org/people/alex36917/sounds/524605/", 124.6, -27.14, -5.8),
    Recording("storm", "storm.ogg", "thunderstorm with heavy rain and rolling thunder",
              ("rain_heavy", "thunder"), "Digifish music (edit: Porrumentzio)", "CC BY", _BY,
              "https://freesound.org/people/digifishmusic/sounds/41739/", 25.7, -24.93, -6.9),
    Recording("waves", "waves.ogg", "ocean waves breaking on a beach, sea surf washing ashore",
              ("ocean_surf",), "Luftrum (edit: Porrumentzio)", "CC BY", _BY,
              "https://freesound.org/people/Luftrum/sounds/48412/", 118.0, -25.88, -6.29),
    Recording("city", "city.ogg", "city street ambience, traffic and cars passing, urban hum",
              ("city_traffic",), "gezortenplotz (edit: Porrumentzio)", "CC BY", _BY,
              "https://freesound.org/people/gezortenplotz/sounds/44796/", 24.7, -27.74, -7.97),
    Recording("train", "train.ogg", "train riding on railway tracks, rhythmic clatter of wheels",
              ("train",), "SDLx", "CC BY 3.0", _BY3,
              "https://freesound.org/people/SDLx/sounds/259988/", 7.2, -35.06, -16.87),
)  # fmt: skip

BY_NAME: dict[str, Recording] = {r.name: r for r in RECORDINGS}


@lru_cache(maxsize=1)
def by_file() -> dict[str, Recording]:
    return {r.file: r for r in RECORDINGS}


def recording(name: str) -> Recording:
    from studio.errors import InputError

    if name not in BY_NAME:
        raise InputError(f"unknown recording {name!r}; the pack has: {', '.join(BY_NAME)}")
    return BY_NAME[name]


def for_layer_type(layer_type: str) -> tuple[Recording, ...]:
    """Recordings that can stand in for a catalogue layer type (may be empty)."""
    return tuple(r for r in RECORDINGS if layer_type in r.layer_types)
