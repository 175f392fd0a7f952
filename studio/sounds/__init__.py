"""The sound vocabulary, shared by planning, generation and tagging (none of them owns it).

- :mod:`studio.sounds.catalogue`: the procedural engine's layer types and their descriptions;
- :mod:`studio.sounds.recordings`: the bundled starter pack of real recordings, with credits;
- :mod:`studio.sounds.labels`: sound-scene labels (catalogue types + ESC-50 classes) with the
  text prompts used for zero-shot tagging.

Data only: importing this package loads no audio and no model.
"""
