"""The lecture demo works in a real browser, served as the instructor serves it.

`make demo` itself is started (on a free port, in its own process group) and
serves notebooks/demo/conv_explorer.ipynb with Voila. Debian's chromium,
driven by Playwright and cut off from every host but 127.0.0.1, opens the
page, waits for the widgets, then moves sliders with the keyboard as a
lecturer would and checks that the page follows: the shapes line after the
kernel size and the number of filters change, the picture after the window
moves. Then, with 4 channels and 4 filters, it chooses 2 groups and then
depthwise (4 groups) in the groups dropdown: the shapes line shows the grouped
weights and the sum written out keeps only the highlighted filter's group's
channels. A screenshot of each step goes to the test's tmp_path.

Without chromium or Playwright the test is skipped, except in CI (the
environment variable CI is set), where it must run: there it fails instead.
"""

import http.client
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from test_project_setup import REPO, free_port, make_env, run_make, stop_group

# The demo extra's install reinstalls the course: made before any test starts (conftest.py).
pytestmark = pytest.mark.make_targets(".venv/.installed-demo")

CHROMIUM_PATHS = ("/usr/bin/chromium", "chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# The first kernel start, and the first picture, can take several seconds.
READY_TIMEOUT_S = 60
# After a key press: the kernel redraws and the page shows the new picture.
CHANGE_TIMEOUT_S = 15
# The widget's Image view is the <img> itself (ipywidgets 8); the second form
# would match a wrapper.
PICTURE = "img.conv-picture, .conv-picture img"


def unavailable(reason):
    """Skip, or in CI (where the demo must be tested) fail, with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, so the browser test must run: .ci/run installs Debian's chromium "
                    "with apt-get, and Playwright comes with the test extra (pip install -e '.[test]').")
    pytest.skip(reason)


def find_chromium():
    for candidate in CHROMIUM_PATHS:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def http_answers(port):
    """True when something speaks HTTP on 127.0.0.1:port. The request asks for
    a static file, never for /, which would start a kernel each time."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/voila/static/favicon.ico")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def start_demo(port, log):
    """`make demo` on port, in a new session (so stop_group ends make, Voila
    and its kernels together)."""
    return subprocess.Popen(
        ["make", "--no-print-directory", "demo", f"DEMO_PORT={port}"],
        cwd=REPO, env=make_env(), stdin=subprocess.DEVNULL,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )


@contextmanager
def served_on_a_free_port(start, log, what):
    """Start a server on a free port and wait until it answers HTTP; yields the port, and stops its
    process group at the end. start(port) -> Popen (in a session of its own, writing to log);
    what: how the server is called in a failure's message. Another program may grab the port
    between free_port() and the server's start: then another port, three tries in all."""
    for _attempt in range(3):
        port = free_port()
        process = start(port)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while time.monotonic() < deadline and process.poll() is None and not http_answers(port):
                time.sleep(0.2)
            if process.poll() is not None and "already in use" in log.read_text():
                continue
            assert process.poll() is None and http_answers(port), (
                f"{what} on port {port} did not answer within {READY_TIMEOUT_S} s:\n{log.read_text()}"
            )
            yield port
            return
        finally:
            stop_group(process)
    pytest.fail(f"no free port could be kept for {what} after 3 tries:\n{log.read_text()}")


@pytest.fixture(scope="module")
def demo(chromium, tmp_path_factory):
    """`make demo` serving on a free port; yields (address, log path)."""
    # The demo extra first, so that the wait below times only Voila's start.
    setup = run_make(".venv/.installed-demo")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    log = tmp_path_factory.mktemp("demo") / "voila.log"
    with served_on_a_free_port(lambda port: start_demo(port, log), log, "`make demo`") as port:
        address = f"http://127.0.0.1:{port}/"
        assert f"Lecture demo: open {address}" in log.read_text(), "make demo prints the address it serves"
        yield address, log


def view_script(picture, texts):
    """A script that reads what the page shows in one go: {part: the innerText of its selector
    (null when absent), "picture": the src of the picture's <img>}. texts: {part: CSS selector}."""
    parts = "".join(f"{part}: text({selector!r}), " for part, selector in texts.items())
    return f"""() => {{
    const text = (selector) => {{ const e = document.querySelector(selector); return e ? e.innerText : null; }};
    const picture = document.querySelector({picture!r});
    return {{{parts}picture: picture ? picture.getAttribute("src") : null}};
}}"""


VIEW_SCRIPT = view_script(PICTURE, {"shapes": ".conv-shapes", "arithmetic": ".conv-arithmetic"})
# A redraw is over when the page has not changed for this long.
QUIET_S = 0.6


@contextmanager
def local_page(chromium, viewport, blocked=None):
    """A headless chromium page of the given viewport ({"width": ..., "height": ...}) that reaches
    127.0.0.1 only: any other request is aborted (and its address added to ``blocked``, a list,
    when given). Yields (page, page_errors): the page's script errors, for the test to assert none."""
    from playwright.sync_api import sync_playwright

    page_errors = []

    def only_localhost(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # e.g. Voila's template asks a CDN for Font Awesome; the icons come bundled anyway
            if blocked is not None:
                blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.route("**/*", only_localhost)
            yield page, page_errors
        finally:
            browser.close()


def view(page):
    return page.evaluate(VIEW_SCRIPT)


def settle(page, timeout=CHANGE_TIMEOUT_S):
    """Wait until the page stops changing (the kernel's updates of one change
    arrive as several messages), then return what it shows."""
    deadline = time.monotonic() + timeout
    last, since = view(page), time.monotonic()
    while time.monotonic() - since < QUIET_S:
        if time.monotonic() > deadline:
            pytest.fail(f"the page kept changing for {timeout} s: {last}")
        time.sleep(0.1)
        now = view(page)
        if now != last:
            last, since = now, time.monotonic()
    return last


def readout(page, name):
    return int(page.locator(f".conv-{name} .widget-readout").inner_text())


def move_slider(page, name, must_change):
    """Focus the slider's handle, move it one step with the keyboard (right, or
    left when it is at its maximum), wait until every part in must_change
    (shapes, arithmetic, picture) has changed and the page is still again.
    Returns the readout before, after and as expected, and the views before and after."""
    before = settle(page)
    handle = page.locator(f".conv-{name} .noUi-handle")
    value = readout(page, name)
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    handle.focus()
    handle.press("ArrowLeft" if at_max else "ArrowRight")
    after = wait_for_change(page, before, must_change, f"after {name} moved")
    return value, readout(page, name), value - 1 if at_max else value + 1, before, after


def wait_for_change(page, before, must_change, what):
    """Wait until every part in must_change differs from before and the page is still again; return the view."""
    script = f"(before) => {{ const now = ({VIEW_SCRIPT})(); return {list(must_change)!r}.every((part) => now[part] !== before[part]); }}"
    try:
        page.wait_for_function(script, arg=before, timeout=CHANGE_TIMEOUT_S * 1000)
    except Exception:  # Playwright's TimeoutError
        now = view(page)
        unchanged = [part for part in must_change if now[part] == before[part]]
        pytest.fail(f"{what}, {', '.join(unchanged)} did not change within {CHANGE_TIMEOUT_S} s")
    return settle(page)


def slide_to(page, name, value):
    """Move a slider with the keyboard, one step at a time, until its readout shows value."""
    for _step in range(10):
        now = readout(page, name)
        if now == value:
            return
        before = settle(page)
        handle = page.locator(f".conv-{name} .noUi-handle")
        handle.focus()
        handle.press("ArrowRight" if now < value else "ArrowLeft")
        wait_for_change(page, before, ["shapes"], f"after {name} moved to {readout(page, name)}")
    pytest.fail(f"{name} did not reach {value}: it shows {readout(page, name)}")


def choose(page, name, option):
    """Choose an option of a dropdown as a lecturer would; wait until the shapes line and the sum change."""
    before = settle(page)
    page.locator(f".conv-{name} select").select_option(label=str(option))
    return before, wait_for_change(page, before, ["shapes", "arithmetic", "picture"], f"after {name} became {option}")


def summed_channels(arithmetic):
    """How many input channels the sum written out adds (one "(channel c)" term each)."""
    return arithmetic.count("(channel ")


def test_demo_page_answers_the_keyboard_in_chromium(chromium, demo, tmp_path):
    address, log = demo
    started = time.monotonic()
    blocked = []
    with local_page(chromium, {"width": 1280, "height": 1800}, blocked) as (page, page_errors):
        page.goto(address, wait_until="domcontentloaded")

        page.locator(PICTURE).first.wait_for(state="visible", timeout=READY_TIMEOUT_S * 1000)
        page.wait_for_function(
            "() => { const e = document.querySelector('.conv-shapes'); return e && e.innerText.trim() !== ''; }",
            timeout=READY_TIMEOUT_S * 1000,
        )
        shots = [tmp_path / "0-ready.png"]
        page.screenshot(path=shots[-1])

        # Voila shows the markdown and the outputs, never the code.
        assert page.get_by_role("heading", name="slider demo").is_visible()
        assert "conv_explorer()" not in page.locator("body").inner_text()
        assert page.locator(".conv-message").is_hidden(), page.locator(".conv-message").inner_text()

        # Kernel size and filters: the shapes line and the picture follow.
        # The window's row: the picture and the sum written out follow.
        steps = [("kernel-size", ["shapes", "picture"]), ("filters", ["shapes", "picture"]),
                 ("row", ["picture", "arithmetic"])]
        for number, (name, must_change) in enumerate(steps, start=1):
            value, moved, expected, before, after = move_slider(page, name, must_change)
            assert moved == expected, f"{name}: the slider went from {value} to {moved}, not {expected}"
            for part in must_change:
                assert after[part] and after[part] != before[part], (name, part, before[part], after[part])
            assert page.locator(".conv-message").is_hidden(), page.locator(".conv-message").inner_text()
            shots.append(tmp_path / f"{number}-{name}.png")
            page.screenshot(path=shots[-1])

        # groups (notebook 07): 4 channels and 4 filters allow 1, 2 or 4 groups.
        slide_to(page, "channels", 4)
        slide_to(page, "filters", 4)
        options = page.locator(".conv-groups option").all_inner_texts()
        assert options == ["1", "2", "4"], f"4 channels and 4 filters allow groups 1, 2, 4; offered {options}"
        before, after = choose(page, "groups", 2)
        assert summed_channels(before["arithmetic"]) == 4, before["arithmetic"]
        assert "(C_out, C_in/groups, kH, kW) = (4, 2," in after["shapes"] and "groups = 2" in after["shapes"]
        assert summed_channels(after["arithmetic"]) == 2, f"2 groups: half the channels in the sum: {after}"
        shots.append(tmp_path / "4-groups-2.png")
        page.screenshot(path=shots[-1])
        _, after = choose(page, "groups", 4)
        assert "(C_out, C_in/groups, kH, kW) = (4, 1," in after["shapes"], after["shapes"]
        assert "depthwise: one map per input channel, no sum across channels" in after["shapes"]
        assert summed_channels(after["arithmetic"]) == 1, after["arithmetic"]
        assert page.locator(".conv-message").is_hidden(), page.locator(".conv-message").inner_text()
        shots.append(tmp_path / "5-depthwise.png")
        page.screenshot(path=shots[-1])

    assert not page_errors, f"errors in the page: {page_errors}"
    assert all(shot.stat().st_size > 10_000 for shot in shots), shots
    print(f"browser part: {time.monotonic() - started:.1f} s; screenshots: {', '.join(map(str, shots))}; "
          f"blocked: {sorted({urlsplit(url).hostname for url in blocked})}")


# The picture's size as drawn and as sent, the arithmetic line's type size, and how
# far the page overflows: the most any scrolling box (Voila scrolls a box inside the
# page, not the document) or the document itself holds beyond its height.
SIZES_SCRIPT = f"""() => {{
    const picture = document.querySelector({PICTURE!r});
    const line = document.querySelector(".conv-arithmetic");
    const box = picture.getBoundingClientRect();
    let overflow = document.documentElement.scrollHeight - window.innerHeight;
    for (const element of document.querySelectorAll("*")) {{
        const scrolls = ["auto", "scroll"].includes(getComputedStyle(element).overflowY);
        if (scrolls && element.clientHeight > 0) overflow = Math.max(overflow, element.scrollHeight - element.clientHeight);
    }}
    return {{natural: picture.naturalWidth, shown: box.width, bottom: box.bottom,
             arithmetic: parseFloat(getComputedStyle(line.querySelector("b") || line).fontSize),
             overflow: overflow, inner: window.innerHeight}};
}}"""
#: How far the page may reach past the window before it counts as scrolling (rounding, borders).
SCROLL_SLACK_PX = 8


def test_the_projector_toggle_fills_a_1920_by_1080_screen_without_scrolling(chromium, demo, tmp_path):
    address, _log = demo
    with local_page(chromium, {"width": 1920, "height": 1080}) as (page, page_errors):
        page.goto(address, wait_until="domcontentloaded")
        page.locator(PICTURE).first.wait_for(state="visible", timeout=READY_TIMEOUT_S * 1000)
        before = settle(page)
        normal = page.evaluate(SIZES_SCRIPT)
        page.screenshot(path=tmp_path / "projector-0-normal.png")

        page.locator("button.conv-projector").click()
        wait_for_change(page, before, ["picture"], "after the projector toggle was pressed")
        page.wait_for_function(f"() => document.querySelector({PICTURE!r}).naturalWidth > {normal['natural']}",
                               timeout=CHANGE_TIMEOUT_S * 1000)
        projector = page.evaluate(SIZES_SCRIPT)
        shot = tmp_path / "projector-1-on.png"
        page.screenshot(path=shot)
        assert projector["natural"] > 1.3 * normal["natural"], (normal, projector)
        assert projector["shown"] > 1.3 * normal["shown"], (normal, projector)
        assert projector["arithmetic"] > 1.3 * normal["arithmetic"], (normal, projector)
        # The picture and the controls fit the screen: nothing to scroll, the picture whole in view.
        assert normal["overflow"] > SCROLL_SLACK_PX, normal  # the check can see scrolling: the normal page scrolls
        assert projector["overflow"] <= SCROLL_SLACK_PX, projector
        assert projector["bottom"] <= projector["inner"], projector
        controls = page.locator(".conv-controls").bounding_box()
        assert controls["y"] + controls["height"] <= 1080 and controls["x"] + controls["width"] <= 1920, controls

        page.locator("button.conv-projector").click()  # and back
        page.wait_for_function(f"() => document.querySelector({PICTURE!r}).naturalWidth === {normal['natural']}",
                               timeout=CHANGE_TIMEOUT_S * 1000)
        page.screenshot(path=tmp_path / "projector-2-off.png")
    assert not page_errors, f"errors in the page: {page_errors}"
    print(f"projector screenshots: {shot.parent}; sizes normal {normal}, projector {projector}")
