"""An AudioSet-style list of everyday environmental sounds, written as short descriptions.

The planner's semantic fallback (:mod:`studio.planning.fallback`) matches every noun phrase
of a caption that its lexicon does not know against this list, the ESC-50 classes, the
procedural catalogue and the recordings pack (see :func:`studio.sounds.labels.sound_sources`).

Each line is ``label | description | types``:

- ``label``: the sound's short name, as a plan note names it ("steam train");
- ``description``: one line written for sentence-embedding matching (like the catalogue's);
- ``types``: catalogue layer types that *are* this sound, best first. Names that are not in
  the catalogue yet are allowed: the first name the catalogue has is used, so a type added to
  ``studio/sounds/catalogue.py`` later is picked up without a code change;
- after ``~``, stand-ins: types that are *not* the sound but come nearest to it. When no type
  before ``~`` exists, the machine has no offline source for the sound: the plan says so by
  name and uses the first stand-in (or, with none listed, the nearest catalogue description
  when it is close enough).

The labels follow the AudioSet ontology's environmental branches (Gemmeke et al., 2017:
"Audio Set: an ontology and human-labeled dataset for audio events") in plain words; they are
written from that ontology, not from any caption table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SceneSound:
    label: str
    description: str
    types: tuple[str, ...] = ()
    stand_ins: tuple[str, ...] = ()


_TABLE = """
# --- people ---
crowd | a crowd of people talking at once, busy hubbub of voices | cafe_murmur
chatter | people chatting and talking nearby, conversation | cafe_murmur
cheering crowd | a stadium crowd of sports fans cheering, chanting and shouting | ~ cafe_murmur
applause | an audience clapping and applauding | ~ cafe_murmur
laughter | people laughing together | ~ cafe_murmur
children playing | children or kids playing, laughing and shouting in a playground | children_playing ~ cafe_murmur
baby crying | a baby crying |
baby cooing | a baby babbling and cooing softly |
whispering | people whispering quietly | ~ cafe_murmur
shouting | people shouting and calling out loudly | ~ cafe_murmur
singing voice | a person singing a song |
choir | a choir singing together in a hall |
chanting | monks chanting a low repetitive prayer | temple_bell ~ singing_bowl
speech | a person speaking, a voice talking |
footsteps | footsteps walking | footsteps_gravel
footsteps on gravel | footsteps crunching on a gravel path | footsteps_gravel
footsteps in snow | boots crunching through snow | footsteps_gravel
running footsteps | someone running, quick footsteps | footsteps_gravel
high heels | high heels clicking on a hard floor | footsteps_gravel
breathing | calm slow breathing |
snoring | a person snoring in bed |
heartbeat | a slow heartbeat pulsing |
coughing | a person coughing |
sneezing | a person sneezing |
yawning | a person yawning |
eating | a person eating and chewing |
drinking | a person sipping a drink |
typing | fingers typing on a computer keyboard |
writing | a pen or pencil scratching on paper |
page turning | pages of a book or newspaper turning | page_turns
knitting | knitting needles clicking softly |
picnic | a family picnic on the grass, people chatting and children laughing | cafe_murmur
party | a party with many people talking and laughing | cafe_murmur
audience | an audience murmuring before a show | cafe_murmur
tourists | tourists talking and strolling around a square | cafe_murmur
passengers | passengers waiting and talking, announcements | cafe_murmur
classroom | a classroom of pupils talking and chairs scraping | children_playing ~ cafe_murmur
# --- domestic and indoor ---
room tone | the quiet hum of an empty room, indoor room tone | room_tone ~ brown_noise
air conditioner | an air conditioner humming steadily | room_tone ~ brown_noise
ceiling fan | a ceiling fan whirring | room_tone ~ pink_noise
refrigerator hum | a refrigerator humming in a kitchen | room_tone ~ brown_noise
heater | a radiator or heater ticking and humming | room_tone ~ brown_noise
washing machine | a washing machine spinning and churning | ~ brown_noise
tumble dryer | a clothes dryer tumbling | ~ brown_noise
dishwasher | a dishwasher running | ~ brown_noise
vacuum cleaner | a vacuum cleaner roaring | ~ white_noise
hair dryer | a hair dryer blowing hot air | ~ white_noise
kettle | a kettle boiling and whistling |
cooking | food sizzling in a frying pan |
frying | oil sizzling in a hot pan |
chopping | a knife chopping vegetables on a board |
dishes | plates and dishes clattering in a sink |
cutlery | cutlery and glasses clinking at a table | ~ cafe_murmur
pouring water | water being poured into a glass |
tap running | a tap running into a sink | ~ stream
dripping tap | a leaking tap dripping into a sink | cave_drips
toilet flush | a toilet flushing |
shower | a shower running in a bathroom | ~ rain_heavy
bath filling | a bathtub filling with water | ~ stream
door knock | knocking on a wooden door |
door creak | an old wooden door creaking open |
door slam | a door slamming shut |
doorbell | a doorbell ringing |
keys jingling | a bunch of keys jingling |
clock ticking | a clock ticking steadily | clock_ticking
grandfather clock | a grandfather clock ticking and chiming | clock_ticking
alarm clock | an alarm clock ringing |
telephone ringing | a telephone ringing |
television | a television playing in another room |
hot tub | a hot tub bubbling and churning | stream
jacuzzi | a jacuzzi's jets bubbling | stream
aquarium | an aquarium filter bubbling softly | stream
coffee machine | an espresso machine hissing and steaming | ~ white_noise
server room | rows of computer servers humming in a cool room | room_tone ~ white_noise
hospital | a hospital ward with beeping monitors and quiet voices | room_tone ~ brown_noise
hotel lobby | a hotel lobby with quiet voices and footsteps | cafe_murmur
radio | a radio playing quietly |
computer fan | a computer fan whirring | ~ white_noise
printer | a printer printing pages |
office | an office with phones, keyboards and quiet talk | ~ cafe_murmur
fireplace | a fire crackling in a fireplace | campfire
cat purring | a cat purring contentedly |
cat meowing | a cat meowing |
dog barking | a dog barking |
dog panting | a dog panting |
# --- urban ---
city traffic | city traffic, cars passing on a busy street | city_traffic
rush hour | heavy rush hour traffic with engines and horns | city_traffic
car passing | a car driving past | city_traffic
car horn | a car horn honking | city_traffic
motorcycle | a motorcycle revving past | city_traffic
truck | a heavy truck rumbling by | city_traffic
bus | a city bus pulling away with a hiss of brakes | city_traffic
taxi | taxis and cars in a city street | city_traffic
engine idling | a car engine idling | city_traffic
highway | highway traffic roaring past at speed | city_traffic
tyres on wet road | car tyres hissing on a wet road | city_traffic
siren | an ambulance or police siren wailing |
construction | construction work with drills, hammers and machinery |
jackhammer | a jackhammer pounding the pavement |
drilling | a power drill drilling |
street market | a busy street market with vendors calling out | cafe_murmur
restaurant | a restaurant full of diners talking | cafe_murmur
bar | a noisy bar with music and voices | cafe_murmur
jazz club | a jazz club with a band and a murmuring audience | cafe_murmur
nightclub | a nightclub with thumping music |
shopping mall | a shopping mall with shoppers and echoes | cafe_murmur
playground | a playground with children shouting | children_playing ~ cafe_murmur
school | a school corridor with students talking | children_playing ~ cafe_murmur
church bells | church bells ringing from a tower | temple_bell ~ singing_bowl
bell tower | a large bell tolling | temple_bell ~ singing_bowl
fountain | water splashing in a fountain | stream
pigeons | pigeons cooing in a square | ~ songbirds
skateboard | a skateboard rolling on concrete |
bicycle bell | a bicycle bell ringing |
bicycle | a bicycle rolling past, chain clicking |
street musician | a street musician playing guitar |
fireworks | fireworks bursting and crackling | ~ thunder
gunshot | a gunshot echoing |
helicopter | a helicopter flying overhead, rotor thumping |
# --- transport ---
train | a train running on railway tracks, rhythmic clatter | train ~ city_traffic
steam train | a steam locomotive chugging and whistling | train ~ city_traffic
train horn | a train horn blowing | train ~ city_traffic
train station | a train station hall with announcements, trains and travellers | train ~ cafe_murmur
subway | an underground metro train screeching into a station | train ~ city_traffic
tram | a tram rattling along rails | train ~ city_traffic
airplane | an airplane flying overhead, jet engine roar |
airport | an airport terminal with announcements and crowds | cafe_murmur
propeller plane | a small propeller plane droning |
boat engine | a motor boat engine chugging on water |
ship horn | a ship's foghorn sounding |
ferry | a ferry crossing the water with engine rumble and waves | ~ lake_lapping
gondola | a gondola gliding along a canal, an oar dipping | rowing_oars ~ lake_lapping
kayak | a kayak paddle dipping into water | rowing_oars ~ lake_lapping
railway | a train passing on the railway tracks | train ~ city_traffic
freight train | a long freight train rumbling past | train ~ city_traffic
locomotive | a locomotive engine chugging along | train ~ city_traffic
scooter | a motor scooter buzzing past in the street | city_traffic
traffic jam | cars idling in a traffic jam, horns honking | city_traffic
car park | cars starting and doors shutting in a car park | city_traffic
rowing | oars splashing and creaking as a boat is rowed | rowing_oars ~ lake_lapping
sailing | a sailboat with flapping sails and water against the hull | lake_lapping
canoe paddling | a paddle dipping into calm water | rowing_oars ~ lake_lapping
horse and carriage | horse hooves clopping with a carriage |
car interior | the inside of a moving car, road noise | ~ brown_noise
# --- water ---
ocean waves | ocean waves breaking on a shore | ocean_surf
surf | heavy surf crashing on rocks | ocean_surf
tide pool | shallow sea water washing into rock pools | ocean_surf
lake shore | calm water lapping at a lake shore | lake_lapping
pond | still pond water with gentle ripples | lake_lapping
canal | canal water lapping against stone walls | lake_lapping
harbour water | water slapping against boats in a harbour | lake_lapping ocean_surf
swimming pool | water lapping in a swimming pool | lake_lapping
stream | a babbling stream over stones | stream
water spring | a small spring bubbling out of the ground | stream
creek | a creek trickling | stream
river | a flowing river | river
rapids | whitewater rapids rushing | river
waterfall | a waterfall roaring | waterfall
dripping water | water dripping slowly | cave_drips
cave | water drops echoing in a cave | cave_drips
bubbling | water bubbling and gurgling | stream
splashing | water splashing | stream
underwater | muffled underwater rumble, heard below the surface | ~ brown_noise
hot spring | a hot spring bubbling and steaming | stream
sprinkler | a garden sprinkler spraying water | ~ rain_light
puddles | puddles and dripping gutters after the rain | cave_drips
geyser | a geyser hissing and erupting | ~ river
meltwater | melting snow and ice dripping and trickling | cave_drips stream
ice cracking | ice creaking and cracking on a frozen lake |
# --- weather ---
rain | rain falling steadily | rain_light
light rain | light rain and drizzle | rain_light
heavy rain | a heavy downpour | rain_heavy
rain on roof | rain drumming on a roof | rain_on_roof
rain on window | rain tapping on a window pane | rain_on_roof
rain on umbrella | rain pattering on an umbrella | rain_on_roof
rain on tent | rain pattering on a tent | rain_on_roof
hail | hailstones clattering down | ~ rain_heavy
thunder | thunder rumbling | thunder
thunderstorm | a thunderstorm with rain and thunder | thunder rain_heavy
lightning | a lightning strike and a crack of thunder | thunder
wind | wind blowing | breeze
breeze | a gentle breeze | breeze
gale | a strong gale howling | wind_gusty
blizzard | a blizzard with howling wind and snow | wind_gusty
windstorm | a storm wind roaring | wind_gusty
wind in trees | wind rustling leaves in trees | wind_leaves
snow falling | snow falling silently, muffled quiet | ~ breeze
fog | a still foggy morning, muffled and quiet | ~ breeze
sandstorm | wind blowing sand across dunes | wind_gusty
heat haze | a hot still day with buzzing insects | cicadas insect_hum
# --- nature and animals ---
birdsong | birds singing | songbirds
bird calls | birds calling and chirping | songbirds
dawn chorus | many birds singing at dawn | dawn_chorus
woodpecker | a woodpecker drumming on a tree trunk | ~ songbirds
crow | a crow cawing | ~ songbirds
pigeon | a pigeon cooing | ~ songbirds
sparrows | sparrows chirping | songbirds
parrot | a parrot squawking | ~ songbirds
cuckoo | a cuckoo calling in a wood | songbirds
rooster | a rooster crowing |
hen | hens clucking in a farmyard |
duck | ducks quacking on a pond |
geese | geese honking as they fly over |
swan | swans on a lake, wings beating |
seagull | seagulls crying over the sea | seagulls
owl | an owl hooting at night | owl
eagle | an eagle screeching over a mountain |
crickets | crickets chirping | crickets
cicadas | cicadas buzzing | cicadas
bees | bees buzzing around flowers | insect_hum
beehive | a beehive humming with bees | insect_hum
mosquito | a mosquito whining |
flies | flies buzzing | insect_hum
frogs | frogs croaking | frogs
toad | a toad croaking | frogs
cow | a cow mooing in a field |
sheep | sheep bleating on a hillside |
goat | goats bleating |
pig | pigs grunting |
horse | a horse neighing and snorting |
horse hooves | horse hooves clopping |
donkey | a donkey braying |
wolf | wolves howling |
coyote | coyotes yipping at night |
lion | a lion roaring |
elephant | an elephant trumpeting |
monkey | monkeys chattering in the jungle |
whale | whale song underwater |
dolphin | dolphins clicking and whistling |
seal | seals barking on a beach |
bear | a bear growling |
deer | a deer stag bellowing |
squirrel | a squirrel chattering in a tree |
mouse | a mouse squeaking |
rustling leaves | dry leaves rustling underfoot | wind_leaves
twigs snapping | twigs snapping in a forest | ~ footsteps_gravel
grass | wind moving through long grass | breeze
jungle | a tropical jungle with insects, birds and monkeys | insect_hum cicadas
swamp | a swamp with frogs and insects | frogs
farm | a farmyard with animals |
# --- fire ---
campfire | a campfire crackling | campfire
bonfire | a large bonfire roaring and crackling | campfire
forge | a blacksmith's forge roaring, bellows and fire | campfire
fire alarm | a fire alarm beeping |
# --- tools and industry ---
hammering | a hammer striking metal or wood |
anvil | a hammer ringing on an anvil |
sawing | a hand saw cutting wood |
chainsaw | a chainsaw cutting |
lawnmower | a lawnmower running |
factory | a factory with machines clanking and humming | ~ brown_noise
machinery | heavy machinery humming and clanking | ~ brown_noise
generator | an electric generator humming | ~ brown_noise
electrical hum | electrical mains hum | ~ brown_noise
spaceship | a spaceship interior hum | ~ brown_noise
space station | the steady hum of a space station's life support | room_tone ~ brown_noise
submarine | the steady hum inside a submarine | room_tone ~ brown_noise
engine room | a ship's engine room, heavy machinery throbbing | ~ brown_noise
laboratory | a laboratory with humming equipment | room_tone ~ brown_noise
volcano | a volcano erupting, deep rumbling and hissing lava | ~ brown_noise
lava | molten lava hissing and bubbling | ~ brown_noise
earthquake | a deep rumble of the ground shaking | ~ brown_noise
gears | clockwork gears ticking | clock_ticking
sewing machine | a sewing machine whirring |
# --- music and tonal ---
singing bowl | a singing bowl ringing | singing_bowl
gong | a gong struck | singing_bowl
temple bell | a temple bell struck, long ringing tone | temple_bell ~ singing_bowl
bell | a bell ringing | temple_bell ~ singing_bowl wind_chimes
wind chimes | wind chimes tinkling | wind_chimes
music box | a music box playing a tune | kalimba
kalimba | a kalimba plucked | kalimba
piano | a piano playing softly | ~ kalimba
guitar | an acoustic guitar strummed |
harp | a harp plucked | ~ kalimba
flute | a bamboo flute playing |
drum | a drum beating |
violin | a violin playing |
organ | a church organ playing | ~ drone_pad
synthesizer pad | an ambient synthesizer pad | drone_pad
meditation music | calm meditation music with a drone | drone_pad
# --- noise ---
white noise | white noise static | white_noise
pink noise | pink noise | pink_noise
brown noise | deep brown noise | brown_noise
static | radio static hiss | white_noise
"""


@lru_cache(maxsize=1)
def scene_sounds() -> tuple[SceneSound, ...]:
    """The table above as :class:`SceneSound` entries (comment lines skipped)."""
    out: list[SceneSound] = []
    for line in _TABLE.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        label, description, types = (part.strip() for part in line.split("|"))
        same, _, near = types.partition("~")
        out.append(SceneSound(label, description, tuple(same.split()), tuple(near.split())))
    return tuple(out)
