"""`import studio` (and the light core modules) must not pull in heavy libraries."""

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "diffusers", "streamlit", "audiocraft", "sentence_transformers")
LIGHT_MODULES = (
    "studio",
    "studio.types",
    "studio.errors",
    "studio.registry",
    "studio.pipeline",
    "studio.manifest",
    "studio.cli",
    "studio.vision",
    "studio.planning",
    "studio.generation",
    "studio.sounds.catalogue",
    "studio.planning.styles",
)


def _imported_after(modules):
    code = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_studio_is_light():
    assert _imported_after(["studio"]) == []


def test_core_modules_are_light():
    assert _imported_after(LIGHT_MODULES) == []


def test_cli_parser_is_light():
    code = (
        "import json, sys\nfrom studio.cli import build_parser\nbuild_parser()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
