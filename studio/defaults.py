"""The studio's defaults, in one place: the CLI's flags, the app's settings and the library's
arguments all read them, so a track made with no options is the same everywhere.

=================  =========================  ==============================================
name               value                      used by
=================  =========================  ==============================================
STYLE              ``meditation``             ``--style``, the app's Style, ``style=``
DURATION_S         600 s (10 minutes)         ``--seconds/--minutes``, Length, ``duration_s=``
SEED               7                          ``--seed``, Seed, ``seed=``
CAPTIONER          ``analysis`` (offline)     ``--captioner``, Models > Captioner
PLANNER            ``rules`` (offline)        ``--planner``, Models > Planner
LOUDNESS_PRESET    ``None``: the style's own  ``--preset``, Loudness ("style default")
                   target and ceiling
MIX_FORMAT         ``wav`` (24-bit)           ``--mix-format``, Mix format, ``mix_format=``
STEM_FORMAT        ``flac`` (24-bit)          ``--stem-format``, stems zip, ``stem_format=``
OUTPUT_ROOT        ``renders``                the README's example ``--out`` folders (git-ignored)
=================  =========================  ==============================================

Fades default to the style's (``fade_in_s``/``fade_out_s`` in ``prompt_templates/styles``);
``--fade-in-s``/``--fade-out-s`` and the export's ``fade_in_s``/``fade_out_s`` replace them.
Nothing here imports anything heavy.
"""

from __future__ import annotations

from typing import Optional

STYLE = "meditation"
DURATION_S = 600.0
SEED = 7
CAPTIONER = "analysis"
PLANNER = "rules"
LOUDNESS_PRESET: Optional[str] = None
MIX_FORMAT = "wav"
STEM_FORMAT = "flac"
OUTPUT_ROOT = "renders"
