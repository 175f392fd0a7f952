"""The procedural catalogue: every layer type the built-in synthesis engine can make.

This is data shared by three stages: the procedural backend (one generator per name), the
planners (matching captions to layer types by their descriptions) and the CLIP sound tagger
(its label vocabulary). ``description`` is one line written for sentence-embedding matching;
``default_role`` says whether the type is naturally a bed or sparse events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional


@dataclass(frozen=True)
class LayerType:
    name: str
    category: Literal["water", "air", "fire", "creatures", "places", "tonal", "noise"]
    description: str
    default_role: Literal["background", "foreground"] = "background"
    event_s: Optional[float] = None  # typical length of one event, for foreground use
    sudden: bool = False  # startling onsets (thunder, gulls): banned by calm styles


CATALOGUE: tuple[LayerType, ...] = (
    # water
    LayerType("rain_light", "water", "light gentle rain, soft drizzle pattering"),
    LayerType("rain_heavy", "water", "heavy rain downpour, storm rain pouring hard"),
    LayerType("rain_on_roof", "water", "rain drumming on a roof or tapping on a window pane"),
    LayerType("ocean_surf", "water", "ocean waves breaking on a beach, sea surf"),
    LayerType("lake_lapping", "water", "calm lake water lapping gently against the shore"),
    LayerType("stream", "water", "babbling brook, small stream trickling over stones"),
    LayerType("river", "water", "flowing river, steady rushing water"),
    LayerType("waterfall", "water", "waterfall roaring, cascading white water"),
    LayerType("cave_drips", "water", "water dripping in a cave, echoing drops"),
    LayerType("rowing_oars", "water", "rowing a boat, oars dipping and splashing in calm water, oarlocks knocking"),
    # air and weather
    LayerType("breeze", "air", "gentle breeze, soft moving air outdoors"),
    LayerType("wind_gusty", "air", "strong gusty wind howling, blustery storm wind"),
    LayerType("wind_leaves", "air", "wind rustling through tree leaves in a forest"),
    LayerType("thunder", "air", "distant thunder rumbling in a storm", "foreground", 8.0, True),
    # fire
    LayerType("campfire", "fire", "crackling campfire or fireplace, burning wood"),
    # creatures
    LayerType("songbirds", "creatures", "songbirds chirping and singing in trees"),
    LayerType("dawn_chorus", "creatures", "dawn chorus, many birds singing at sunrise"),
    LayerType("seagulls", "creatures", "seagulls calling over the sea and harbour", "foreground", 3.0, True),
    LayerType("owl", "creatures", "owl hooting at night in the woods", "foreground", 2.5),
    LayerType("crickets", "creatures", "crickets chirping on a warm night"),
    LayerType("cicadas", "creatures", "cicadas buzzing in summer heat"),
    LayerType("frogs", "creatures", "frogs croaking by a pond or marsh at night"),
    LayerType("insect_hum", "creatures", "insects humming and buzzing in a meadow, bees"),
    # people and places
    LayerType("city_traffic", "places", "distant city traffic, cars on a street, urban hum"),
    LayerType("cafe_murmur", "places", "cafe or crowd murmur, people talking softly indoors"),
    LayerType("clock_ticking", "places", "clock ticking steadily in a quiet room"),
    LayerType("footsteps_gravel", "places", "footsteps walking on a gravel path", "foreground", 4.0),
    LayerType("train", "places", "train travelling on rails, rhythmic wheel clatter over rail joints and a deep rumble"),
    LayerType("children_playing", "places", "children playing and laughing in the distance, distant voices in a park or schoolyard"),
    LayerType("page_turns", "places", "pages of a book turning, paper rustling while reading in a quiet library", "foreground", 1.5),
    LayerType("room_tone", "places", "quiet room tone, faint indoor air and ventilation hum, near silence"),
    # meditative and tonal
    LayerType("drone_pad", "tonal", "warm ambient drone pad, sustained calm chord"),
    LayerType("singing_bowl", "tonal", "tibetan singing bowl struck, resonant ringing tone", "foreground", 12.0),
    LayerType("wind_chimes", "tonal", "wind chimes tinkling in the breeze"),
    LayerType("kalimba", "tonal", "soft handpan or kalimba notes, gentle plucked melody", "foreground", 3.0),
    LayerType("temple_bell", "tonal", "church or temple bell tolling, deep bronze bell ringing out with a long decay", "foreground", 20.0),
    LayerType("binaural_beats", "tonal", "binaural beats for meditation, focus or sleep brainwave entrainment"),
    # noise colours
    LayerType("white_noise", "noise", "white noise, flat static hiss"),
    LayerType("pink_noise", "noise", "pink noise, soft balanced steady noise"),
    LayerType("brown_noise", "noise", "brown noise, deep low rumbling noise"),
)

BY_NAME: dict[str, LayerType] = {t.name: t for t in CATALOGUE}


def layer_type(name: str) -> LayerType:
    from studio.errors import InputError

    if name not in BY_NAME:
        raise InputError(f"unknown layer type {name!r}; choose one of: {', '.join(BY_NAME)}")
    return BY_NAME[name]
