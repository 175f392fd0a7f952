"""Words a caption uses for sounds and scenes, as data for the rules planner.

Three kinds of evidence, strongest first:

- ``SOUND_WORDS``: the caption names the sound itself ("frogs", "thunder", "rain"). Such a
  layer is *explicit*: it survives scene exclusions (the user asked for it) but not negation.
- ``SCENE_WORDS``: the caption names a place or thing that implies sounds ("forest" implies
  wind in leaves and songbirds by day, crickets and an owl by night). Such a layer is
  *implied* and is removed when the scene excludes it.
- ``CONTEXTS`` and ``EXCLUDES``: scene facts (frozen, arid, indoor, night, asleep ...) and the
  implied or merely similar layer types that would contradict them (frogs on a frozen lake,
  surf in a desert, birdsong in a sleeping nursery).

Patterns are regular expressions matched on lower-case text at word boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

EXPLICIT_SCORE = 1.0
IMPLIED_SCORE = 0.8
WEAK_SCORE = 0.6  # implied by a vague word (sky, path): used only when there is room
DEFAULT_DISTANCE = 0.3  # the procedural engine's default: fairly close, a little air


@dataclass(frozen=True)
class Cue:
    """``pattern`` found in a clause suggests ``types``; ``when`` names a context that must
    hold (``"night"``) or must not hold (``"!night"``) for the cue to count."""

    pattern: re.Pattern
    types: tuple[str, ...]
    score: float = EXPLICIT_SCORE
    when: tuple[str, ...] = ()


def _cue(pattern: str, types: str, score: float = EXPLICIT_SCORE, when: str = "") -> Cue:
    return Cue(re.compile(rf"\b(?:{pattern})\b"), tuple(types.split()), score, tuple(when.split()))


BIRDS = "songbirds dawn_chorus seagulls owl"
# A station is a transport hub unless it is a weather, police, fire, power ... station.
HUB_STATION = "".join(f"(?<!{w} )" for w in "weather police fire power space gas petrol filling research radio pumping service ranger fuel charging lifeboat".split()) + "stations?"
# Buildings seen as often from outside as from inside (see detect_contexts).
BUILDING = (r"temples?|shrines?|monaster\w*|churche?s?|cathedrals?|chapels?|abbey|mosques?|factory|factories|"
            r"warehouses?|museums?|garages?|greenhouses?|windows?")
INSECTS = "crickets cicadas insect_hum"
RAIN = "rain_light rain_heavy rain_on_roof"
LIQUID = "lake_lapping stream river waterfall ocean_surf cave_drips"

# The caption names the sound (explicit).
SOUND_WORDS: tuple[Cue, ...] = (
    _cue(r"rain|rains|raining|rainy|rainfall|rainwater|drizzl\w*|showers?|raindrops?", "rain_light"),
    _cue(r"downpours?|torrential|pouring rain|pouring down|rain pouring|heavy rain|rainstorms?|monsoon|cloudburst", "rain_heavy"),
    _cue(r"thunder\w*|lightning", "thunder"),
    _cue(r"storms?|stormy|tempest|thunderstorms?|thundershowers?|hailstorms?", "rain_heavy thunder wind_gusty", IMPLIED_SCORE),
    _cue(r"surf|breakers|ocean waves|sea waves|crashing waves", "ocean_surf"),
    _cue(r"lapping|ripples?", "lake_lapping"),
    _cue(r"brooks?|creeks?|streams?|babbling|trickl\w*|rivulets?|fountains?", "stream"),
    _cue(r"rivers?|rapids|flowing water|rushing water", "river"),
    _cue(r"waterfalls?|cascad\w*", "waterfall"),
    _cue(r"drips?|dripping|droplets?", "cave_drips"),
    _cue(r"breeze\w*|breezy|light wind|gentle wind|soft wind|calm wind|zephyr", "breeze"),
    _cue(r"gusts?|gusty|gales?|howling wind|strong wind|windy|windswept|blizzards?|windstorms?|snowstorms?|sandstorms?|dust ?storms?", "wind_gusty"),
    _cue(r"rustl\w*|swaying|sways|leaves in the wind|wind in the trees|wind through the trees", "wind_leaves"),
    _cue(r"campfires?|bonfires?|fireplaces?|fire|fires|hearth|fireside|embers|crackl\w*|wood ?stove|log burner", "campfire"),
    _cue(r"birds?|birdsong|songbirds?|warbl\w*|robins?|sparrows?|finch\w*|thrush\w*|blackbirds?|nightingales?", "songbirds"),
    _cue(r"dawn chorus|birds at dawn|morning chorus", "dawn_chorus"),
    _cue(r"seagulls?|gulls?|seabirds?", "seagulls"),
    _cue(r"owls?|hoot\w*", "owl"),
    _cue(r"crickets?", "crickets"),
    _cue(r"cicadas?", "cicadas"),
    _cue(r"frogs?|toads?|croak\w*|ribbit", "frogs"),
    _cue(r"bees?|insects?|bugs|buzz\w*|humming insects", "insect_hum"),
    _cue(r"traffic|cars?|car horns?|buses|trams?|highway|motorway", "city_traffic"),
    _cue(r"crowd murmur|murmur of voices|chatter\w*|crowds?|people talking|voices|conversations?", "cafe_murmur"),
    _cue(r"clocks?|ticking|tick-tock|grandfather clock", "clock_ticking"),
    _cue(r"footsteps?|footfalls?|walking|hiking|crunching gravel|gravel", "footsteps_gravel"),
    # A bare "pad(s)" is a lily pad or a launch pad, not music.
    _cue(r"drones?|ambient pads?|synth pads?|pad sounds?|sustained chord|ambient music", "drone_pad"),
    # A bare "bowl" is tableware ("a bowl of soup"), not an instrument.
    _cue(r"singing bowls?|tibetan bowls?|prayer bowls?|sound bowls?|crystal bowls?|gongs?", "singing_bowl"),
    _cue(r"chimes?|wind chimes?", "wind_chimes"),
    _cue(r"kalimbas?|handpans?|hang drums?|music box|thumb piano", "kalimba"),
    _cue(r"binaural\w*|brainwaves?|entrainment", "binaural_beats"),
    # Every catalogue type has words (these came with the types train ... room_tone).
    _cue(r"trains?|railways?|railroads?|rail tracks?|railway tracks?|locomotives?|freight cars?|carriages clatter\w*", "train"),
    _cue(r"children playing|kids playing|playing children|laughing children|children'?s laughter|playgrounds?|schoolyards?", "children_playing"),
    _cue(r"children|kids|schoolchildren|youngsters", "children_playing", IMPLIED_SCORE),
    _cue(r"turning pages|pages? turn\w*|page turns|leafing through|rustling pages", "page_turns"),
    _cue(r"room tone|ventilation|air conditioning|air vents?|hvac|humming fridge", "room_tone"),
    _cue(r"bells?|bell towers?|belfr(?:y|ies)|carillon|tolling|tolls", "temple_bell"),
    _cue(r"rowing|oars?|oarlocks?|paddl(?:e|es|ed|ing)(?! pool)", "rowing_oars"),
    _cue(r"white noise|static|hiss|hissing|hisses", "white_noise"),
    _cue(r"pink noise", "pink_noise"),
    _cue(r"brown noise|brownian noise|red noise", "brown_noise"),
)

# The caption names a scene that implies sounds (implied).
SCENE_WORDS: tuple[Cue, ...] = (
    _cue(r"oceans?|seas?|seaside|beach\w*|coast\w*|shore ?line|tides?|bay|cove", "ocean_surf", IMPLIED_SCORE),
    _cue(r"waves?|shore", "ocean_surf", IMPLIED_SCORE, "!lake"),
    _cue(r"islands?|atolls?|reefs?|surfing|surfers?|surfboards?|sailboats?|yachts?|ocean liner|cruise ships?", "ocean_surf", IMPLIED_SCORE, "!lake"),
    _cue(r"harbou?rs?|piers?|marinas?|port|fishing boats?|lighthouse", "seagulls ocean_surf", IMPLIED_SCORE),
    _cue(r"lakes?|lakeside|loch|lagoon|ponds?|jetty|canoe|rowboat|boathouse|reservoir", "lake_lapping", IMPLIED_SCORE),
    _cue(r"ponds?|marsh\w*|swamps?|bogs?|wetlands?|bayou|reeds", "frogs", IMPLIED_SCORE, "!day"),
    _cue(r"marsh\w*|swamps?|bogs?|wetlands?|bayou", "frogs", IMPLIED_SCORE),
    _cue(r"forests?|woods|woodland|trees|grove|jungle|rainforest|vegetation|foliage|greenery|orchard", "wind_leaves", IMPLIED_SCORE),
    _cue(r"forests?|woods|woodland|trees|grove|jungle|rainforest|vegetation|foliage|greenery|garden|(?<!car )(?<!theme )(?<!business )(?<!industrial )(?<!trailer )(?<!skate )park|orchard|hedges?|hedgerows?|country lanes?|countryside|villages?|farmland|rural", "songbirds", IMPLIED_SCORE, "!night"),
    _cue(r"forests?|woods|woodland|trees|grove|barn", "owl", IMPLIED_SCORE, "night"),
    _cue(r"jungle|rainforest|tropical", "insect_hum cicadas", IMPLIED_SCORE),
    _cue(r"rainforest", "rain_light", IMPLIED_SCORE),
    _cue(r"meadows?|fields?|grass\w*|prairie|wildflowers?|flowers?|blossoms?|countryside", "insect_hum breeze", IMPLIED_SCORE, "!night"),
    _cue(r"meadows?|fields?|grass\w*|prairie|countryside|garden|porch|farm\w*", "crickets", IMPLIED_SCORE, "night"),
    _cue(r"dusk|twilight|sunset|evening", "crickets", IMPLIED_SCORE, "!indoor"),
    _cue(r"night|nights|nighttime|night-time|tonight|midnight|moon\w*|starry|stars|nocturnal", "crickets", IMPLIED_SCORE, "!indoor"),
    _cue(r"summer|hot|heat", "cicadas", IMPLIED_SCORE, "day"),
    _cue(r"dawn|sunrise|daybreak|early morning", "dawn_chorus", IMPLIED_SCORE, "!indoor"),
    _cue(r"mountains?|peaks?|summit|ridge|cliffs?|highlands?|hilltop|valley", "breeze", IMPLIED_SCORE),
    _cue(r"deserts?|dunes?|sahara|arid|canyon|badlands|tundra|steppe", "breeze", IMPLIED_SCORE),
    _cue(r"snow\w*|winter|frozen|ice|icy|frost\w*|arctic|glaciers?", "breeze", IMPLIED_SCORE),
    _cue(r"outer space|spaceships?|space station|nebulae?|galax\w*|orbit\w*|cosmos|cosmic|starships?", "brown_noise", IMPLIED_SCORE),
    _cue(r"caves?|caverns?|grottos?|underground", "cave_drips", IMPLIED_SCORE),
    _cue(r"camping|campsite|tents?|camp", "campfire", IMPLIED_SCORE),
    _cue(r"cabin|lodge|chalet|cottage", "campfire", WEAK_SCORE, "indoor"),
    _cue(r"caf[eé]s?|coffee ?shops?|coffeehouse|restaurants?|bistro|diner|bars?|pubs?|tavern|food court|market", "cafe_murmur", IMPLIED_SCORE),
    _cue(r"city|cities|streets?|urban|downtown|avenue|boulevard|intersection|metropolis|skyline", "city_traffic", IMPLIED_SCORE),
    _cue(rf"{HUB_STATION}|airports?|terminals?|subway|metro|underground platform|concourse|waiting room|shopping malls?|lobby", "cafe_murmur", IMPLIED_SCORE),
    # Gatherings: where many people are, their voices carry the scene (like a station's crowd).
    _cue(r"stadiums?|arenas?|concerts?|festivals?|fairgrounds?|funfairs?|carnivals?|parades?|rall(?:y|ies)|protests?|"
         r"spectators|weddings?", "cafe_murmur", IMPLIED_SCORE),
    _cue(r"library|study|reading room|grandmother'?s|parlou?r", "clock_ticking", IMPLIED_SCORE),
    _cue(r"temples?|monaster\w*|shrine|zen|pagoda|meditation hall", "singing_bowl", IMPLIED_SCORE),
    _cue(r"churche?s?|cathedrals?|chapels?|abbey|abbeys|minster|steeples?|spires?", "temple_bell", WEAK_SCORE),
    _cue(r"rowboats?|rowing boats?|canoes?|kayaks?|gondolas?|punts?", "rowing_oars", WEAK_SCORE),
    _cue(r"librar(?:y|ies)|reading room|bookshops?|bookstores?", "page_turns", WEAK_SCORE),
    _cue(r"porch|veranda|balcony", "wind_chimes", WEAK_SCORE),
    _cue(r"nursery|crib|cot|infant|newborn|baby|babies|toddler", "pink_noise", IMPLIED_SCORE),
    _cue(r"lullaby", "kalimba", IMPLIED_SCORE),
    _cue(r"trail|path|hike|trek|walk", "footsteps_gravel", WEAK_SCORE),
    _cue(r"sky|skies|clouds?|open air|outdoors", "breeze", WEAK_SCORE),
    _cue(r"water", "lake_lapping", WEAK_SCORE, "!sea"),
    # Things on or at open water: some water laps nearby (a named river or sea wins, see _drop_vague).
    _cue(r"docks?|boats?|boating|kayak\w*|paddl\w*|fishing|fisherm[ae]n|anglers?|swimm\w*|rowing|ducks?|swans?|geese|goose", "lake_lapping", WEAK_SCORE, "!sea"),
    _cue(r"sand|sandy", "ocean_surf", IMPLIED_SCORE, "water"),
)

# Broad words that negation may name ("no animals", "without water").
GENERIC_WORDS: tuple[Cue, ...] = (
    _cue(r"birds?|birdsong|songbirds?|chirp\w*|tweet\w*|wildlife|animals?|creatures?", BIRDS),
    _cue(r"insects?|bugs|wildlife|animals?|creatures?", INSECTS + " frogs"),
    _cue(r"rain|rains|raining|rainy|rainfall|drizzle|showers?|precipitation", RAIN),
    _cue(r"water|waves?", LIQUID + " " + RAIN),
    _cue(r"wind\w*|breeze|gusts?|air", "breeze wind_gusty wind_leaves"),
    _cue(r"music|musical|tones?|melod\w*|instruments?|drones?|pads?", "drone_pad singing_bowl wind_chimes kalimba"),
    _cue(r"people|voices|talking|humans?|crowds?|chatter", "cafe_murmur footsteps_gravel"),
    _cue(r"traffic|cars?|city noise|urban noise|engines?", "city_traffic"),
    _cue(r"noise|hiss|static", "white_noise pink_noise brown_noise"),
    _cue(r"sudden sounds?|startling sounds?|loud sounds?", "thunder seagulls"),
)

# Scene facts. ``day``/``night`` and ``indoor``/``outdoor`` are read from the whole caption.
CONTEXTS: dict[str, re.Pattern] = {
    name: re.compile(rf"\b(?:{pattern})\b")
    for name, pattern in {
        "frozen": r"frozen|ice|icy|iced over|frost\w*|glaciers?|icebergs?|arctic|antarctic",
        "cold": r"snow\w*|winter\w*|frozen|ice|icy|frost\w*|blizzards?|arctic|antarctic|glaciers?|sub-?zero|sleet",
        "arid": r"deserts?|dunes?|sahara|arid|cactus|cacti|badlands|dry canyon|drought",
        "asleep": r"sleep(?!y\b|ily\b)\w*|asleep|nursery|crib|cot|bedtime|lullaby|napping|nap|slumber\w*|baby|infant|newborn",
        "indoor": r"indoors?|inside|rooms?|bedroom|nursery|kitchen|library|office|study|halls?|hallways?|corridors?|staircase|"
        r"house|home|apartment|attic|"
        r"living room|interior|caf[eé]s?|coffee ?shops?|restaurants?|classroom|studios?|under the covers|clubs?|nightclubs?|pubs?|shops?|stores?|boutiques?|bakery|workshops?|galler(?:y|ies)|theat(?:re|er)s?|cinemas?|gym|cellars?|basements?|laundr\w*|control room|cockpit|window ?panes?|window ?sills?",
        # Buildings seen as often from outside: indoor only without an outdoor setting (detect_contexts).
        "building": BUILDING,
        "night": r"night|nights|nighttime|night-time|tonight|midnight|moon\w*|starry|stars|nocturnal|after dark",
        "day": r"day|daytime|daylight|noon|midday|sunny|sunlit|afternoon|morning|sunshine|bright sun",
        "lake": r"lakes?|lakeside|loch|ponds?|lagoon|reservoir",
        "sea": r"oceans?|seas?|seaside|beach\w*|coast\w*|surf|surfing|surfers?|reefs?|atolls?|harbou?rs?|bay",
        "water": r"water|lakes?|oceans?|seas?|beach|rivers?",
        "urban": rf"city|cities|streets?|urban|downtown|traffic|markets?|bazaars?|crowded|crowds?|{HUB_STATION}|airports?|terminals?|subway|metro",
        "cave": r"caves?|caverns?|grottos?|underground",
    "underwater": r"underwater|under water|under the sea|scuba|snorkel\w*|divers?|diving|seabed|sea floor|seafloor|submarines?|aquariums?",
    "wet": r"rain|rains|raining|rainy|rainfall|drizzl\w*|downpours?|storms?|stormy|thunderstorms?|monsoon",
    "space": r"outer space|spaceship|space station|nebula|galaxy|orbit",
    }.items()
}

# The outdoor settings that put a building (BUILDING) outside.
OUTDOOR_SETTING = re.compile(
    r"\b(?:outdoors?|outside|exterior|hills?|hillside|hilltop|villages?|town|towns|sky|skies|skyline|fields?|meadows?|"
    r"streets?|squares?|mountains?|valley|gardens?|park|parks|forests?|woods|rivers?|lakes?|sea|coast|beach|"
    r"countryside|courtyard|landscape|rooftops?|yard|cemetery|graveyard|churchyard|plaza|roads?|lanes?|cliffs?|"
    r"islands?|harbou?r|facade|façade|spires?|steeples?|horizon)\b"
)

# Types a context rules out when they are only implied or merely similar.
EXCLUDES: dict[str, tuple[str, ...]] = {
    "frozen": tuple(f"frogs crickets cicadas insect_hum lake_lapping ocean_surf stream river waterfall {RAIN}".split()),
    "cold": tuple(f"frogs crickets cicadas insect_hum dawn_chorus {RAIN}".split()),
    "arid": tuple(f"ocean_surf lake_lapping stream river waterfall frogs seagulls cave_drips {RAIN}".split()),
    "asleep": tuple(f"{BIRDS} thunder city_traffic cafe_murmur footsteps_gravel wind_gusty rain_heavy cicadas clock_ticking white_noise children_playing".split()),
    "indoor": tuple(f"{BIRDS} {INSECTS} frogs ocean_surf waterfall river stream breeze wind_gusty wind_leaves footsteps_gravel".split()),
    "cave": tuple(f"{BIRDS} {INSECTS} frogs ocean_surf lake_lapping waterfall wind_gusty wind_leaves breeze city_traffic {RAIN}".split()),
    "night": tuple("songbirds dawn_chorus seagulls cicadas insect_hum".split()),
    "underwater": tuple(f"{BIRDS} {INSECTS} frogs {RAIN} thunder breeze wind_gusty wind_leaves city_traffic cafe_murmur footsteps_gravel campfire".split()),
    "day": ("owl",),
    # Open sea water breaks, it does not lap like a lake (a caption saying "lapping" still gets it).
    "sea": ("lake_lapping",),
    "wet": ("crickets", "cicadas", "insect_hum"),  # insects fall quiet in the rain
    "urban": ("frogs", "owl", "crickets", "cicadas", "insect_hum"),
    "space": tuple(f"{BIRDS} {INSECTS} frogs {LIQUID} {RAIN} breeze wind_gusty wind_leaves campfire city_traffic cafe_murmur".split()),
}

# Types that a mere resemblance (a clause or the whole caption close to the description) may
# only suggest when a scene fact holds: "rooftops" or "a window" resemble rain on a roof, but
# without rain in the scene there is none.
SIMILAR_NEEDS: dict[str, str] = {"rain_light": "wet", "rain_heavy": "wet", "rain_on_roof": "wet", "thunder": "wet"}

# Layer types that do not belong together: keep the best-scoring member of each group.
CONFLICTS: tuple[tuple[str, ...], ...] = (
    ("rain_light", "rain_heavy", "rain_on_roof"),
    ("breeze", "wind_gusty"),
    ("white_noise", "pink_noise", "brown_noise"),
    ("songbirds", "dawn_chorus"),
    ("stream", "river"),
    ("ocean_surf", "lake_lapping"),
)

# The scene's natural foreground events (issue 13): (bed type, event type, when). A scene with
# the bed gets the event as a sparse foreground layer, scheduled at the style's density; an
# event type that is already a bed (songbirds) becomes the events ("bird calls") when another
# bed carries the scene. ``when`` uses the context names of CONTEXTS ("!night" = not at night).
EVENT_PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("wind_leaves", "songbirds", "!night"),
    ("wind_leaves", "owl", "night"),
    ("songbirds", "songbirds", ""),
    ("dawn_chorus", "dawn_chorus", ""),
    ("insect_hum", "songbirds", "!night"),
    ("stream", "songbirds", "!night !urban"),
    ("river", "songbirds", "!night !urban"),
    ("frogs", "owl", "night"),
    ("lake_lapping", "owl", "night"),
    ("campfire", "owl", "night !indoor"),
    ("rain_light", "thunder", "!asleep !indoor"),
    ("rain_heavy", "thunder", "!asleep !indoor"),
    ("rain_on_roof", "thunder", "!asleep !indoor"),
    ("wind_gusty", "thunder", "wet"),
    ("ocean_surf", "seagulls", "!night"),
    ("cave_drips", "cave_drips", ""),
    ("singing_bowl", "singing_bowl", ""),
)
RUMBLE_MIN_INTENSITY = 0.5  # soft rain ("gentle", "light") does not bring thunder with it

# A gentler stand-in when a style bans a type the scene wants.
GENTLER: dict[str, str] = {
    "rain_heavy": "rain_light",
    "wind_gusty": "breeze",
    "white_noise": "pink_noise",
    "dawn_chorus": "songbirds",
    "waterfall": "river",
}

# Rain heard on something (roof, window, tent): rain_on_roof instead of plain rain.
RAIN_ON_SURFACE = re.compile(
    r"\b(?:roofs?|rooftops?|tin|window\w*|panes?|skylights?|gutters?|tents?|awnings?|attic|car|porch|veranda|indoors|inside)\b"
)

# Clause modifiers: how strong, how far, how frequent.
SOFT = re.compile(r"\b(?:gentle|gently|soft\w*|light|lightly|quiet\w*|silent\w*|silence|calm|faint\w*|subtle|slow|low|still|tranquil|peaceful|mellow|hushed|drizzl\w*|whisper\w*)\b")
STRONG = re.compile(r"\b(?:heavy|loud|strong|roaring|pounding|crashing|howling|wild|raging|intense|busy|thunderous|torrential|violent|fierce|booming)\b")
FAR = re.compile(r"\b(?:distant|far|faraway|far-off|far off|remote|in the distance|across the \w+|muffled|faint)\b")
NEAR = re.compile(r"\b(?:close|close-up|near|nearby|right next|overhead|up close|intimate)\b")
SPARSE = re.compile(r"\b(?:occasional\w*|sparse|rare|rarely|now and then|sporadic\w*|few|single|lone|distant)\b")
DENSE = re.compile(r"\b(?:frequent\w*|many|lots of|constant\w*|chorus|busy|flocks?|swarms?|noisy)\b")

NEGATORS = re.compile(r"\b(?:no|not|without|never|neither|nor|minus|free of|except|excluding|don'?t|doesn'?t|isn'?t|aren'?t)\b")
# A negation's scope ends at clause punctuation or a word that turns back to what is wanted.
SCOPE_END = re.compile(r"[,;.:!?()]|\b(?:but|just|only|instead|yet|while|though|although|so)\b")


def context_holds(contexts: set[str], when: tuple[str, ...]) -> bool:
    """Whether every condition in ``when`` (``"night"`` or ``"!night"``) holds."""
    for cond in when:
        negate = cond.startswith("!")
        name = cond.lstrip("!")
        if (name in contexts) == negate:
            return False
    return True


def find_types(cues: tuple[Cue, ...], text: str) -> set[str]:
    """All layer types any of ``cues`` names in ``text`` (conditions ignored)."""
    found: set[str] = set()
    for cue in cues:
        if cue.pattern.search(text):
            found.update(cue.types)
    return found


def explicit_types(text: str) -> set[str]:
    """Types the (lower-case) text names outright, negated ones excluded."""
    _, cleaned, _ = negations(text)
    return find_types(tuple(c for c in SOUND_WORDS if c.score >= EXPLICIT_SCORE), cleaned)


def detect_contexts(text: str) -> set[str]:
    found = {name for name, pattern in CONTEXTS.items() if pattern.search(text)}
    # A church, a factory or a window is a building seen from inside, unless the caption puts
    # it in an outdoor setting ("an old church on a hill above a village").
    if "building" in found:
        found.discard("building")
        if not OUTDOOR_SETTING.search(text):
            found.add("indoor")
    # "day" is the weaker claim: an explicit night word wins ("a day-long walk into the night" is rare).
    if "night" in found and "day" in found:
        found.discard("day")
    if {"indoor"} & found and re.search(r"\b(?:outdoors?|outside|open air)\b", text):
        found.discard("indoor")
    return found


def negations(text: str) -> tuple[set[str], str, list[str]]:
    """Layer types the caption rules out, the caption with negated spans blanked, and the
    negated phrases (for notes).

    ``"a forest at dawn, no birds, just wind"`` -> ({songbirds, dawn_chorus, seagulls, owl},
    ``"a forest at dawn, ___, just wind"``, ["birds"]).
    """
    banned: set[str] = set()
    phrases: list[str] = []
    pieces: list[str] = []
    pos = 0
    for match in NEGATORS.finditer(text):
        if match.start() < pos:
            continue
        end_match = SCOPE_END.search(text, match.end())
        end = end_match.start() if end_match else len(text)
        scope = text[match.end():end]
        named = find_types(SOUND_WORDS, scope) | find_types(GENERIC_WORDS, scope)
        if not named:
            continue
        banned |= named
        phrases.append(scope.strip())
        pieces.append(text[pos:match.start()])
        pieces.append(" ")
        pos = end
    pieces.append(text[pos:])
    return banned, "".join(pieces), phrases


def clause_modifiers(clause: str) -> dict[str, float]:
    """Intensity, distance (0 near .. 1 far) and an event-interval factor read from words."""
    intensity = 0.5
    if SOFT.search(clause):
        intensity = 0.3
    if STRONG.search(clause):
        intensity = 0.85
    distance = DEFAULT_DISTANCE
    if FAR.search(clause):
        distance = 0.85
    elif NEAR.search(clause):
        distance = 0.1
    interval_factor = 1.0
    if SPARSE.search(clause):
        interval_factor = 1.6
    elif DENSE.search(clause):
        interval_factor = 0.6
    return {"intensity": intensity, "distance": distance, "interval_factor": interval_factor}


def strip_analysis_prefix(text: str) -> str:
    """The offline analyser labels its text ("Image analysis: ..."); the label is not content."""
    return re.sub(r"^\s*image analysis\s*:\s*", "", text, flags=re.IGNORECASE)


def split_clauses(text: str) -> list[str]:
    """Clauses on punctuation and joining words, so each sound gets its own modifiers."""
    parts = re.split(r"[,;.:!?\n]+|\b(?:with|and|while|as|under|beneath|amid|amidst|plus|then)\b", text)
    return [p.strip() for p in parts if p and len(p.strip()) > 1]


def first_match_clause(clauses: list[str], cue: Cue) -> Optional[str]:
    for clause in clauses:
        if cue.pattern.search(clause):
            return clause
    return None
