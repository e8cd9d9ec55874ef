"""deckgen preview: the page is rendered from the package's own templates and checked in headless Chromium."""

from __future__ import annotations

import io
import shutil

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from deckgen.cli import cli
from deckgen.model import Card
from deckgen.preview import render, render_card, render_cloze


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "text, ordinal, answer, expected",
    [
        ("A {{c1::B}} C", 1, False, 'A <span class="cloze" data-ordinal="1">[...]</span> C'),
        ("A {{c1::B}} C", 1, True, 'A <span class="cloze" data-ordinal="1">B</span> C'),
        ("A {{c1::B::hint}} C", 1, False, 'A <span class="cloze" data-ordinal="1">[hint]</span> C'),
        ("{{c1::A}} {{c2::B}}", 2, False, 'A <span class="cloze" data-ordinal="2">[...]</span>'),
    ],
)
def test_cloze_like_anki(text, ordinal, answer, expected):
    assert render_cloze(text, ordinal, answer) == expected


def test_template_sections_fields_and_front_side():
    template = "{{#Extra}}<i>{{Extra}}</i>{{/Extra}}{{^Extra}}none{{/Extra}}|{{text:Paper}}|{{FrontSide}}"
    assert render(template, {"Extra": "", "Paper": '<a href="x">P</a>'}, front_side="F") == "none|P|F"
    assert render(template, {"Extra": "e", "Paper": "P"}) == "<i>e</i>|P|"


def test_a_term_makes_two_cards_and_a_cloze_one_per_number():
    term = Card(id="t", type="term", kind="term", front="LoRA", back="低秩适应")
    assert [c.template for c in render_card(term, "LoRA")] == ["Card 1", "Card 2"]
    cloze = Card(id="c", type="cloze", kind="figure", text="{{c1::3}} 和 {{c2::4}}", source="s")
    shown = render_card(cloze, "X", "https://arxiv.org/abs/1")
    assert len(shown) == 2 and "[...]" in shown[0].front and "3" not in shown[0].front.split("[...]")[0]
    assert '<a href="https://arxiv.org/abs/1">X</a>' in shown[0].back and "href" not in shown[0].front


def test_unknown_paper_lists_the_decks(examples_dir, tmp_path):
    run("build", str(examples_dir), "-o", str(tmp_path / "o.apkg"), "--decks-dir", str(tmp_path / "d"))
    result = CliRunner().invoke(cli, ["preview", "--decks-dir", str(tmp_path / "d"), "--paper", "Nope"])
    assert result.exit_code == 1 and "LoRA" in result.output and "Traceback" not in result.output
    result = run("preview", "--decks-dir", str(tmp_path / "d"), "--paper", "lora", "-o", str(tmp_path / "l.html"))
    assert result.exit_code == 0 and "of 1 paper" in result.output
    page = (tmp_path / "l.html").read_text(encoding="utf-8")
    assert "DDPM" not in page and "低秩适应" in page


# ---------------------------------------------------------------- in a real browser

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMEDRIVER and CHROMIUM):
        pytest.fail("headless Chromium is needed: apt-get install chromium chromium-driver (see .ci/run)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def _distinct_colours(png: bytes) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize((200, 200))
    return len(image.getcolors(200 * 200))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    work = tmp_path_factory.mktemp("preview")
    runner = CliRunner(env={"XDG_CONFIG_HOME": str(work / "config"), "DECKGEN_CONFIG": str(work / "none.yaml")})
    runner.invoke(cli, ["build", str(EXAMPLES), "-o", str(work / "o.apkg"), "--decks-dir", str(work / "d")])
    result = runner.invoke(cli, ["preview", "--decks-dir", str(work / "d"), "-o", str(work / "preview.html")])
    assert result.exit_code == 0, result.output
    return work / "preview.html"


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_page_in_chromium(browser, page, width, height):
    from selenium.webdriver.common.by import By

    browser.set_window_size(width, height)
    browser.get(page.as_uri())
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert browser.execute_script("return document.readyState") == "complete"
    assert _distinct_colours(browser.get_screenshot_as_png()) > 20  # not blank

    entries = browser.find_elements(By.CSS_SELECTOR, "article.entry")
    assert len(entries) > 10
    cloze = next(e for e in entries if e.get_attribute("data-type") == "cloze")
    front = cloze.find_element(By.CSS_SELECTOR, ".front .cloze")
    back = cloze.find_element(By.CSS_SELECTOR, ".back .cloze")
    assert front.text == "[...]" and back.text not in ("", "[...]")
    assert back.text not in cloze.find_element(By.CSS_SELECTOR, ".front").text
    assert front.value_of_css_property("font-weight") == "700"  # the package's style.css applies

    sides = cloze.find_elements(By.CSS_SELECTOR, ".side")
    if width < 700:  # stacked on a phone, side by side on a desktop
        assert sides[1].rect["y"] >= sides[0].rect["y"] + sides[0].rect["height"] - 1
    else:
        assert sides[1].rect["x"] > sides[0].rect["x"] + 100 and sides[1].rect["y"] == sides[0].rect["y"]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width  # no sideways scrolling


def test_light_dark_switch(browser, page):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 900)
    browser.get(page.as_uri())
    browser.execute_script("localStorage.clear()")
    browser.get(page.as_uri())
    card = browser.find_element(By.CSS_SELECTOR, ".entry .card")
    light = card.value_of_css_property("background-color")
    browser.find_element(By.ID, "theme").click()
    assert "night_mode" in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
    dark = card.value_of_css_property("background-color")
    assert light != dark and dark.startswith("rgba(30, 30, 30")  # the note type's own night-mode colours
    browser.get(page.as_uri())  # remembered
    assert "night_mode" in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
    browser.find_element(By.ID, "theme").click()
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_each_card_shows_its_source_sentence_once(tmp_path):
    from deckgen.model import Deck
    from deckgen.preview import page_html

    repeated = Card(id="c1", type="cloze", kind="figure", text="X 达到 {{c1::9%}}。", source="X 达到 9%。")
    longer = Card(id="c2", type="cloze", kind="figure", text="X 快 {{c1::3 倍}}。", source="实验表明 X 比基线快 3 倍,而且更省内存。")
    page, count = page_html([Deck("X", [repeated, longer], sources=["a.txt"])])
    assert count == 2 and "a.txt" in page
    assert page.count("X 达到 9%。") == 1 and page.count("实验表明 X 比基线快 3 倍") == 1
