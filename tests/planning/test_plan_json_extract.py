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


@pytest.mark.parametrize(
    "reply",
    [
        '{"layers": [{"type": "rain_light", "gain_db": -3}, {"type": "str',  # stopped inside a string
        '{"layers": [{"type": "rain_light", "gain_db": -3}, {"type": "stream", "gain_db": -',  # inside a number
        '{"layers": [{"type": "rain_light", "gain_db": -3}, {"ty',  # inside a key
    ],
)
def test_a_reply_cut_off_mid_value_keeps_its_complete_elements(reply):
    value = extract_json(reply)
    assert value["layers"][0] == {"type": "rain_light", "gain_db": -3}
    assert all(layer.get("type") in ("rain_light", "stream") for layer in value["layers"])


def test_an_overlong_reply_is_cut_and_still_read():
    from studio.planning.json_extract import MAX_REPLY_CHARS

    layer = '{"type": "stream", "gain_db": -3, "sound": "a small brook over stones"}'
    reply = '{"layers": [' + ", ".join([layer] * (2 * MAX_REPLY_CHARS // len(layer))) + "]}"
    assert len(reply) > MAX_REPLY_CHARS
    value = extract_json(reply)
    assert len(value["layers"]) > 100
    # cut inside a string: the half-written value is dropped, not kept as "a small bro"
    assert all(l["type"] == "stream" and l.get("sound", "a small brook over stones") == "a small brook over stones"
               for l in value["layers"])
