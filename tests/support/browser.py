"""A real browser for the tests that check what a reader sees: Debian's headless Chromium driven over the
W3C WebDriver protocol by Selenium, through Debian's chromedriver (built from the same release as the
browser). Nothing is downloaded: both paths are given, so Selenium never looks for a driver of its own.

Where the browser is missing the test skips, unless ACCESSBOT_REQUIRE_BROWSER is set (CI sets it): then
it fails, so that CI never passes without having looked. Screenshots and printouts go to
ACCESSBOT_TEST_ARTIFACTS when set (CI keeps them), else to the test's own temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

# What a test browser needs on a machine with no display and no way out: no sandbox (root in a
# container), no GPU, and none of the background traffic a fresh profile would start.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def require_browser() -> tuple[str, str]:
    """The paths of chromium and chromedriver. Skips the test when either (or selenium) is missing, or
    fails it when ACCESSBOT_REQUIRE_BROWSER is set."""
    problem = None
    try:
        import selenium  # noqa: F401
    except ImportError:
        problem = "selenium is not installed (pip install -e '.[test]')"
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        missing = " and ".join(
            name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path
        )
        problem = problem or f"{missing} not found (apt-get install chromium chromium-driver)"
    if problem is None:
        return str(chromium), str(driver)
    if os.environ.get("ACCESSBOT_REQUIRE_BROWSER"):
        pytest.fail(f"the browser check must run here (ACCESSBOT_REQUIRE_BROWSER is set): {problem}")
    pytest.skip(f"needs a browser: {problem}")


def artifacts(tmp_path: Path) -> Path:
    """The folder a test's screenshots go to (ACCESSBOT_TEST_ARTIFACTS, else `tmp_path`), created."""
    folder = Path(os.environ.get("ACCESSBOT_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """One headless Chromium session with a fresh profile in `profile`, its console log kept (the
    `browser` log), quit on the way out."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
