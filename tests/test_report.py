"""report.html opens offline in headless Chromium, shows the graph and tables, and its counts
are run_summary.json's. Needs Debian's chromium and chromium-driver (.ci/run installs them)."""

import json
import re
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.exported_run import exported_run
from transforms.output.report import _script_json, histogram

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    _, output, summary = exported_run(tmp_path_factory.mktemp("exported"))
    return output, summary


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1400,1800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_report_opens_offline_without_console_errors_and_matches_the_summary(run, browser, tmp_path):
    output, summary = run
    page = f"file://{output}/report.html"
    browser.get_log("performance")  # drop the blank start page's own traffic
    browser.get(page)
    assert browser.find_element("id", "graph").get_attribute("data-ready") == "true"

    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    sent = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    requested = {m["params"]["request"]["url"] for m in sent if m["method"] == "Network.requestWillBeSent"
                 and m["params"].get("documentURL") == page}
    assert page in requested and all(u.startswith(("file:", "data:")) for u in requested), requested

    shown = {c.get_attribute("data-count"): c.text for c in browser.find_elements("css selector", "#counts td[data-count]")}
    expected = {k: v for k, v in summary["counts"].items() if isinstance(v, int)}
    assert {k: int(v) for k, v in shown.items()} == expected
    by_type = {c.get_attribute("data-type"): int(c.text)
               for c in browser.find_elements("css selector", "#edges-by-type td[data-type]")}
    assert by_type == summary["counts"]["edges_by_type"]
    bins = [int(b.get_attribute("data-count")) for b in browser.find_elements("css selector", "rect.bin")]
    assert sum(bins) == summary["counts"]["edges"]
    error_rows = browser.find_elements("css selector", "#errors tbody tr")
    assert len(error_rows) == summary["counts"]["failed"] and "broken.xlsx" in error_rows[0].text
    assert browser.find_elements("css selector", "#components tbody tr")
    assert browser.find_elements("css selector", "#hubs tbody tr")

    nodes = browser.find_elements("css selector", "#graph circle.node")
    hits = browser.find_elements("css selector", "#graph line.edge-hit")
    assert len(nodes) == summary["counts"]["processed"] and len(hits) == summary["counts"]["edges"]
    colours = {(n.get_attribute("data-type"), n.get_attribute("fill")) for n in nodes}
    assert len({fill for _, fill in colours}) == len({kind for kind, _ in colours}) > 1

    # A real click on the longest edge (its middle is clear of files) shows that edge's evidence.
    browser.execute_script("document.getElementById('graph-section').scrollIntoView()")
    longest = max(hits, key=lambda h: h.rect["width"] ** 2 + h.rect["height"] ** 2)
    longest.click()
    details = browser.find_element("id", "details")
    index = int(details.get_attribute("data-edge"))
    assert index == int(longest.get_attribute("data-index"))
    data = json.loads(browser.find_element("id", "graph-data").get_attribute("textContent"))
    edge = data["edges"][index]
    assert edge["type"] in details.text and ", ".join(edge["evidence"]) in details.text

    # Filtering a relationship type hides its edges.
    kind = edge["type"]
    browser.find_element("css selector", f"input[data-filter='{kind}']").click()
    hidden = browser.find_elements("css selector", f"g.edge-group.hidden[data-type='{kind}']")
    assert len(hidden) == summary["counts"]["edges_by_type"][kind]

    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_report_references_nothing_outside_the_file(run):
    output, _ = run
    page = open(f"{output}/report.html", encoding="utf-8").read()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    assert "default-src 'none'" in page  # the page's own policy forbids any request


def test_embedded_data_cannot_close_its_script_element():
    text = _script_json({"name": "</script><script>alert(1)</script>"})
    assert "</script" not in text and json.loads(text)["name"].startswith("</script>")


def test_histogram_bins_cover_zero_to_one():
    assert histogram([0.0, 0.05, 0.61, 0.99, 1.0], bins=10) == [2, 0, 0, 0, 0, 0, 1, 0, 0, 2]
