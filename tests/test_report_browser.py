"""OUT/report.html opens in a real browser from the disk, whole, with no request to any host.

Debian's chromium, driven by Playwright, opens the report of a made-up class
of forty (test_report.write_class) as a file:// URL. Every request the page
makes is routed: a file: URL goes on, anything else is aborted and noted. The
test asserts no request left the disk, no console error and no script error,
and that the charts are there: one histogram for the course and one per
assignment, one misconception chart for each. Screenshots of the whole page
go to the test's tmp_path and to /tmp/report_screenshot.png (the README
shows it), and one with the print stylesheet to tmp_path.

Without chromium or Playwright the test is skipped, except in CI, where it
fails (conftest's chromium fixture).
"""

import os
import shutil
from contextlib import contextmanager
from urllib.parse import urlsplit

from test_demo_browser import CHROMIUM_ARGS
from test_report import CLASS_TESTS, write_class

from autograder import report

SCREENSHOT = "/tmp/report_screenshot.png"
VIEWPORT = {"width": 1280, "height": 900}


@contextmanager
def disk_only_page(chromium, viewport):
    """A headless chromium page that may load file: URLs only: any other request is aborted and
    its address noted. Yields (page, problems): the off-disk requests, console errors and script
    errors, for the test to assert none."""
    from playwright.sync_api import sync_playwright

    problems = []

    def only_files(route):
        if urlsplit(route.request.url).scheme == "file":
            route.continue_()
        else:
            problems.append(f"request to {route.request.url}")
            route.abort()

    def console(message):
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            page.on("console", console)
            page.route("**/*", only_files)
            yield page, problems
        finally:
            browser.close()


def test_the_report_opens_from_disk_with_its_charts_and_nothing_fetched(chromium, tmp_path):
    target = report.write_report(write_class(tmp_path / "out"))
    with disk_only_page(chromium, VIEWPORT) as (page, problems):
        page.goto(target.as_uri())
        page.wait_for_load_state("load")
        histograms = page.locator("figure.histogram > svg").count()
        bars = page.locator("figure.bars > svg").count()
        sections = page.locator("section.assignment").count()
        reach_links = page.locator("#reach-out a[href^='feedback/']").count()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        # A fixed path outside the test's folder: copied beside it, then renamed over it, so that a
        # test run beside this one (two sessions at once) never leaves half a picture there.
        shutil.copyfile(tmp_path / "report.png", f"{SCREENSHOT}.{os.getpid()}")
        os.replace(f"{SCREENSHOT}.{os.getpid()}", SCREENSHOT)
        page.emulate_media(media="print")
        page.screenshot(path=str(tmp_path / "report_print.png"), full_page=True)
    assert problems == []
    assert sections == len(CLASS_TESTS)
    assert histograms == len(CLASS_TESTS) + 1, "one histogram for the course and one per assignment"
    assert bars == len(CLASS_TESTS) + 1, "one misconception chart for the course and one per assignment"
    assert reach_links > 0, "the learners to reach out to link their feedback pages"
