"""The review page in a real browser (Debian's chromium driven by selenium through chromium-driver).

Skips when chromium, chromedriver or selenium is missing. Set
``DLGRADE_SCREENSHOTS=DIR`` to keep screenshots at desktop width and 400 px.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


@pytest.fixture()
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not CHROMIUM or not DRIVER:
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _text(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def _shot(driver, name: str) -> None:
    folder = os.environ.get("DLGRADE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def test_review_two_answers_by_keyboard_then_reload(browser, review_app):
    """In chromium: open the page, review two flagged answers with the keyboard only, reload: are both
    reviews shown, and are their scores and comment in the gradebook and feedback, also after a regrade?"""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    app, url, (_, out, grade, paths) = review_app
    browser.get(url)
    _wait(browser, lambda d: "student ann" in _text(d, "q-student"))
    assert "2 of 2 to review" in _text(browser, "progress")
    assert "it reveals overfitting" in _text(browser, "q-points")
    assert _text(browser, "q-answer") == "Overfitting."
    _shot(browser, "review-desktop")
    keys = ActionChains(browser)
    keys.send_keys("c").send_keys("Say why it matters.").send_keys(Keys.ESCAPE).send_keys("f").send_keys(Keys.ENTER)
    keys.perform()
    _wait(browser, lambda d: "student bob" in _text(d, "q-student"))
    ActionChains(browser).send_keys("s").send_keys("0.5").send_keys(Keys.ENTER).perform()
    _wait(browser, lambda d: "0 of 2 to review" in _text(d, "progress"))

    browser.refresh()
    _wait(browser, lambda d: "Nothing to review" in _text(d, "empty"))
    ActionChains(browser).send_keys("u").perform()  # show reviewed items too
    _wait(browser, lambda d: "reviewed: 2 by ana" in _text(d, "q-status"))
    assert browser.find_element("id", "comment").get_attribute("value") == "Say why it matters."
    ActionChains(browser).send_keys("j").perform()
    _wait(browser, lambda d: "reviewed: 0.5 by ana" in _text(d, "q-status"))
    browser.set_window_size(400, 900)
    _shot(browser, "review-400px")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 400, "the page scrolls sideways at 400 px"

    for _ in range(2):  # as reviewed, then after regrading the class
        rows = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "tiny" / "gradebook.csv").read_text()))}
        assert (rows["ann"]["q3"], rows["bob"]["q3"], rows["ann"]["reviewed"]) == ("2", "0.5", "q3")
        page = (out / "tiny" / "feedback" / "ann.html").read_text()
        assert "Say why it matters." in page and "Reviewed by an instructor" in page
        grade(paths, regrade=True)
