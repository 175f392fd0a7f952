"""Audio backends. ``procedural`` needs no model and is the offline default."""

from studio.registry import Registry

BACKENDS: Registry = Registry("audio backend")
BACKENDS.register("procedural", "studio.generation.procedural:ProceduralBackend")
BACKENDS.register("samples", "studio.generation.samples:SamplesBackend")
BACKENDS.register("musicgen", "studio.generation.musicgen:MusicGenBackend")
BACKENDS.register("stable-audio", "studio.generation.stable_audio:StableAudioBackend")
BACKENDS.register("audioldm2", "studio.generation.audioldm2:AudioLDM2Backend")
BACKENDS.register("audiogen", "studio.generation.audiogen:AudioGenBackend")
