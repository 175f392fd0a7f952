"""``python -m studio evaluate`` on the example images (plus bad files among them): the HTML
report parses and covers every good image; every bad file gets one clear line; re-running
renders nothing again; an empty folder is one clear error."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from studio.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"
VOID = {"meta", "img", "br", "hr", "input", "link", "source"}


class _StrictParser(HTMLParser):
    """Collects tags and attributes; fails on a closing tag that does not match the open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.srcs: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "src" in a:
            self.srcs.append(a["src"])
        if "id" in a:
            self.ids.append(a["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_report(path: Path) -> _StrictParser:
    parser = _StrictParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return parser


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The example images plus a text file named .jpg and a truncated JPEG, evaluated for 5 s."""
    folder = tmp_path_factory.mktemp("images")
    for image in EXAMPLES.glob("*.jpg"):
        shutil.copy(image, folder / image.name)
    (folder / "zz_not_really.jpg").write_text("this is a note, not a picture")
    (folder / "zz_truncated.jpg").write_bytes((EXAMPLES / "lake_at_dusk.jpg").read_bytes()[:300])
    (folder / "README.txt").write_text("not an image")
    out = tmp_path_factory.mktemp("report")
    code = main(["evaluate", str(folder), "--out", str(out), "--seconds", "5", "--quiet"])
    return folder, out, code


def test_report_covers_every_good_image_and_parses(report):
    folder, out, code = report
    assert code == 1  # some files failed, the rest was reported
    parser = parse_report(out / "report.html")
    good = sorted(p.name for p in EXAMPLES.glob("*.jpg"))
    records = [{**json.loads(p.read_text()), "folder": f"items/{p.parent.name}"}
               for p in sorted((out / "items").glob("*/record.json"))]
    assert sorted(Path(r["image"]).name for r in records) == good
    assert len(parser.ids) == len(good)
    for src in parser.srcs:  # every thumbnail, player and spectrogram points at a real file
        assert (out / src).is_file(), src
    for r in records:
        assert f"{r['folder']}/thumb.png" in parser.srcs
        assert f"{r['folder']}/{r['files']['mix']}" in parser.srcs
        assert sum(s.startswith(r["folder"] + "/stems/") for s in parser.srcs) == len(r["layers"])
        assert r["caption"] in "".join(parser.text)
        assert {s["stage"] for s in r["stages"]} >= {"caption", "plan", "render", "score", "export"}
    text = "".join(parser.text)
    assert "Time and memory per stage" in text and "by backend" in text and "by style" in text
    md = (out / "summary.md").read_text()
    assert all(f"| {name} |" in md for name in good)


def test_bad_files_get_one_clear_line_each(report, capsys):
    folder, out, _ = report
    text = (out / "report.html").read_text()
    assert "zz_not_really.jpg (meditation, seed 0): &#x27;zz_not_really.jpg&#x27; contains text, not image data" in text
    assert text.count("zz_truncated.jpg (meditation, seed 0):") == 1
    assert "skipped README.txt: not an image file" in text
    failed = sorted(p.name for p in (out / "failed").glob("*.json"))
    assert len(failed) == 2


def test_rerun_renders_nothing_again(report, capsys):
    folder, out, _ = report
    before = {p: p.stat().st_mtime_ns for p in (out / "items").glob("*/record.json")}
    code = main(["evaluate", str(folder), "--out", str(out), "--seconds", "5", "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1 and summary["rendered"] == 0 and summary["skipped"] == len(before)
    assert {p: p.stat().st_mtime_ns for p in (out / "items").glob("*/record.json")} == before
    parse_report(out / "report.html")


def test_empty_folder_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: images folder") and "holds no image files" in err and "\n" not in err


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    shutil.copy(EXAMPLES / "lake_at_dusk.jpg", tmp_path / "imgs")
    assert main(["evaluate", str(tmp_path / "imgs"), "--out", str(tmp_path / "r"), "--seeds", "0"]) == 2
    assert "--seeds must be from 1 to" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "imgs"), "--out", str(tmp_path / "r"), "--styles", "nope"]) == 2
    assert "style" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "imgs"), "--out", str(tmp_path / "r"), "--workers", "0"]) == 2
    assert "workers must be a whole number from 1 to" in capsys.readouterr().err


@pytest.mark.browser
def test_report_opens_in_chromium_and_is_screenshotted(report):
    """The report opens in headless Chromium (Debian's, never a downloaded browser): every
    image section and thumbnail is there, the thumbnails decode, and a screenshot is saved."""
    import os

    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("/usr/bin/chromium is not installed")
    from playwright.sync_api import sync_playwright

    _, out, _ = report
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((out / "report.html").as_uri())
            assert page.locator("section.item").count() == len(list(EXAMPLES.glob("*.jpg")))
            widths = page.eval_on_selector_all("img.thumb", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
            assert widths and all(w > 0 for w in widths)  # thumbnails load and decode
            assert page.locator("audio").count() > len(widths)  # a mix and stem players per image
            shot = artifacts / "evaluation-report.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
