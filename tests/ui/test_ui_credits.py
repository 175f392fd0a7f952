"""Issue 14: the credits of bundled real recordings are shown on the Studio page next to the
downloads (the same list as the export's CREDITS.txt), and nothing when none was used."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio.credits import credit_markdown

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
SESSION = "studio.session"


def _typed_and_generated(caption: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key="studio.length").set_value("custom").run()
    at.number_input(key="studio.custom_s").set_value(15.0).run()
    at.text_area(key="studio.caption.0").set_value(caption).run()
    at.button(key="studio.generate").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []
    return at


def _credit_blocks(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Credits**")]


def test_credit_markdown_links_the_licence_and_source_and_escapes_names():
    line = credit_markdown({"recording": "rain", "author": "jdk_sounds*", "licence": "CC BY 4.0",
                            "licence_url": "https://creativecommons.org/licenses/by/4.0/", "source_url": "https://freesound.org/s/1/"})
    assert line == ('"rain" by jdk\\_sounds\\*, [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)'
                    " · [source](https://freesound.org/s/1/)")


def test_studio_shows_the_credits_of_the_bundled_rain_recording(data_dir):
    at = _typed_and_generated("steady rain falling on leaves")
    sess = at.session_state[SESSION]
    recorded = [l for l in sess.soundscape.plan.layers if l.params.get("source") == "recording"]
    assert [l.params["recording"] for l in recorded] == ["rain"]  # the offline planner picked the pack's rain
    credits = sess.manifest()["credits"]  # what CREDITS.txt in the export lists
    assert [c["recording"] for c in credits] == ["rain"]
    shown = _credit_blocks(at)
    assert len(shown) == 1
    lines = [m.value for m in at.markdown if m.value.startswith("- \"rain\"")]
    assert lines == [f"- {credit_markdown(credits[0])}"]
    credit = credits[0]
    assert credit["author"].split(" ")[0] in lines[0]
    assert f"({credit['licence_url']})" in lines[0] and f"({credit['source_url']})" in lines[0]
    assert credit["licence"].startswith("CC BY")  # attribution is required for this one


def test_no_credits_when_every_layer_is_synthesised(data_dir):
    at = _typed_and_generated("a singing bowl and a soft drone in a quiet room")
    sess = at.session_state[SESSION]
    assert not [l for l in sess.soundscape.plan.layers if l.params.get("source") == "recording"]
    assert sess.manifest()["credits"] == []
    assert _credit_blocks(at) == []
    assert at.get("audio")  # the result is there: the absence is not an empty page
