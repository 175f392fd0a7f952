"""Tolerant JSON extraction from model replies."""

from __future__ import annotations

import pytest

from studio.planning.json_extract import ExtractionError, extract_json

PLAN = {"layers": [{"type": "rain_light", "gain_db": -3}], "notes": "rain"}


@pytest.mark.parametrize(
    "reply",
    [
        '{"layers": [{"type": "rain_light", "gain_db": -3}], "notes": "rain"}',
        '```json\n{"layers": [{"type": "rain_light", "gain_db": -3}], "notes": "rain"}\n```',
        '```\n{"layers": [{"type": "rain_light", "gain_db": -3}], "notes": "rain"}\n```',
        'Here is the plan you asked for:\n{"layers": [{"type": "rain_light", "gain_db": -3}], "notes": "rain"}\nEnjoy!',
        '{"layers": [{"type": "rain_light", "gain_db": -3,},], "notes": "rain",}',
        "{'layers': [{'type': 'rain_light', 'gain_db': -3}], 'notes': 'rain'}",
        '{layers: [{type: "rain_light", gain_db: -3}], notes: "rain"}',
        '// plan\n{"layers": [{"type": "rain_light", /* soft */ "gain_db": -3}], "notes": "rain"}',
        '{"layers": [{"type": "rain_light", "gain_db": -3}], "notes": "rain"',  # truncated
    ],
)
def test_almost_json_is_read(reply):
    assert extract_json(reply) == PLAN


def test_python_literals_nan_and_quotes_inside_strings():
    value = extract_json("{'a': True, 'b': None, 'c': \"it's fine\", 'd': NaN}")
    assert value == {"a": True, "b": None, "c": "it's fine", "d": None}
    assert extract_json('{"text": "a, ] tricky } string", "n": 1}') == {"text": "a, ] tricky } string", "n": 1}


def test_first_usable_object_wins_over_prose_braces():
    reply = 'I think {this} is nice. ```json\n{"layers": []}\n```'
    assert extract_json(reply) == {"layers": []}


@pytest.mark.parametrize("reply", ["", "   ", "no json here at all", "{{{{", 42, None, "[" * 5000 + "]" * 5000])
def test_garbage_is_an_extraction_error_or_harmless_value(reply):
    try:
        value = extract_json(reply)
    except ExtractionError:
        return
    assert isinstance(value, (dict, list))
