#!/usr/bin/env python3
"""The planners' page in a real browser: headless Debian Chromium driven by Selenium (PyPI).

Starts `subterra serve` on a free loopback port over the sample district (Datasets/sample) with
two users, then:

1. as a planner (every layer): logs in on /map/, sees gas pipes drawn, draws a dig polygon by
   clicking the map over the sample's gas main on Xiangyang Street (pipe 1070, the one dig
   site 2 of Datasets/sample/dig-sites.geojson hits), submits it and waits for the critical gas
   conflict in the list; screenshot `page-planner.png`;
2. as a contractor whose role cannot see gas: no gas pipe is drawn or ever requested, the same
   dig lists no gas conflict and shows the hidden-utility notice naming the gas company;
   screenshot `page-no-gas.png`;
3. the page fetched nothing from another host (no tiles, no CDN).

Screenshots, the server's log and the browser's console go to $TEST_OUT (default
.build/browser-test). The server is stopped whatever happens. Exit status 0 when every check
passed; each failure is one `browser: FAIL …` line on stderr.

    python3 Tests/browser/test_page.py [--bin .build/debug/subterra] [--out DIR]
"""

import argparse
import json
import math
import os
import signal
import sys
import tempfile
import time
import traceback

from serve_harness import Server, free_port, get_json, make_key, sample_config
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GAS_OWNER = "Wenling Natural Gas Co."
GAS_PIPE = 1070  # the gas main dig site 2 of the sample hits
NOT_GAS = ["JS", "PS", "RL", "DL", "TX", "GY", "QT", "GX"]


def log(message):
    print(f"browser: {message}", file=sys.stderr, flush=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,900", "--lang=en-GB"]:
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=options, service=service)


class Page:
    def __init__(self, driver, base):
        self.d = driver
        self.base = base

    def wait(self, condition, what, seconds=60):
        try:
            return WebDriverWait(self.d, seconds, poll_frequency=0.2).until(lambda d: condition())
        except Exception:
            raise AssertionError(f"timed out waiting for {what}")

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def login(self, key):
        self.d.get(self.base + "/map/")
        self.js("sessionStorage.clear()")
        self.d.get(self.base + "/map/")
        self.d.find_element(By.ID, "key").send_keys(key)
        self.d.find_element(By.ID, "login-button").click()
        self.wait(lambda: self.js("return !document.getElementById('app').hidden"), "the map after login")
        self.wait_pipes()

    def wait_pipes(self):
        self.wait(lambda: self.js("return document.body.dataset.pipesLoaded === 'true'"), "pipes to load")

    def view(self, lat, lon, zoom):
        self.js("document.body.dataset.pipesLoaded = 'pending';"
                "window.subterra.map.setView([arguments[0], arguments[1]], arguments[2], {animate: false})",
                lat, lon, zoom)
        self.wait_pipes()

    def click_at(self, lat, lon):
        """A real mouse click on the map where (lat, lon) is drawn."""
        x, y = self.js("const p = window.subterra.map.latLngToContainerPoint([arguments[0], arguments[1]]);"
                       "return [p.x, p.y]", lat, lon)
        element = self.d.find_element(By.ID, "map")
        size = element.size
        ActionChains(self.d).move_to_element_with_offset(
            element, int(round(x - size["width"] / 2)), int(round(y - size["height"] / 2))).click().perform()

    def dig(self, ring, depth):
        self.d.find_element(By.ID, "draw-polygon").click()
        for lon, lat in ring:
            self.click_at(lat, lon)
        self.d.find_element(By.ID, "finish").click()
        depth_box = self.d.find_element(By.ID, "depth")
        depth_box.clear()
        depth_box.send_keys(str(depth))
        self.js("document.body.dataset.answer = ''")
        self.d.find_element(By.ID, "submit").click()
        self.wait(lambda: self.js("return ['shown', 'refused', 'failed'].includes(document.body.dataset.answer)"),
                  "the dig check's answer")
        state = self.js("return document.body.dataset.answer")
        error = self.d.find_element(By.ID, "dig-error").text
        assert state == "shown", f"the dig check was {state}: {error}"

    def resources(self):
        return self.js("return performance.getEntriesByType('resource').map(e => e.name)")

    def screenshot(self, path):
        self.d.save_screenshot(path)
        log(f"screenshot {path}")


def square_around(lon, lat, half_m):
    dlat = half_m / 111_320.0
    dlon = half_m / (111_320.0 * math.cos(math.radians(lat)))
    return [(lon - dlon, lat - dlat), (lon + dlon, lat - dlat), (lon + dlon, lat + dlat), (lon - dlon, lat + dlat)]


def run(binary, out):
    work = tempfile.mkdtemp(prefix="subterra-browser-")
    planner_key, planner = make_key(binary, "ana", "planner")
    contractor_key, contractor = make_key(binary, "bo", "contractor")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config_path = sample_config(port, work, {
        "planner": {"layers": "*", "fields": "*"},
        "contractor": {"layers": NOT_GAS, "fields": "*"},
    }, [planner, contractor], contacts={GAS_OWNER: "+86 576 0000 1111"})

    server = Server(binary, config_path, os.path.join(out, "server.log"))
    driver = None
    try:
        server.wait_ready(base)
        log(f"server ready at {base}")
        gas = get_json(base, f"/collections/RQ/items/{GAS_PIPE}", planner_key)
        (lon0, lat0), (lon1, lat1) = gas["geometry"]["coordinates"][:2]
        lon, lat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
        ring = square_around(lon, lat, 1.5)  # a 3 m valve pit over the main

        driver = browser()
        page = Page(driver, base)

        # 1. The planner sees gas and gets the critical conflict.
        page.login(planner_key)
        layers = page.js("return document.body.dataset.layers").split(",")
        assert "RQ" in layers, f"the planner's page lists no gas layer: {layers}"
        assert page.js("return document.querySelectorAll('path.layer-RQ').length") > 0, "no gas pipe drawn for the planner"
        page.view(lat, lon, 21)
        page.dig(ring, 2.0)
        page.wait(lambda: page.js(
            "return document.querySelector('#conflicts tr[data-layer=\"RQ\"][data-severity=\"critical\"]') !== null"),
            "the critical gas conflict in the list")
        groups = page.js("return [...document.querySelectorAll('#conflicts .owner-group')].map(e => e.dataset.owner)")
        assert GAS_OWNER in groups, f"no conflict group for {GAS_OWNER}: {groups}"
        owners = page.d.find_element(By.ID, "owners").text
        assert GAS_OWNER in owners and "+86 576 0000 1111" in owners, f"owners to notify: {owners!r}"
        assert page.js("return document.querySelectorAll('path.conflict.severity-critical').length") > 0, \
            "the critical conflict is not highlighted on the map"
        assert page.js("return document.querySelectorAll('path.clearance-zone').length") > 0, "no clearance zone drawn"
        assert page.d.find_element(By.ID, "hidden-box").get_attribute("hidden") is not None, \
            "the planner sees every layer but got a hidden-utility notice"
        page.js("window.subterra.map.setZoom(19, {animate: false})")
        time.sleep(0.5)
        page.screenshot(os.path.join(out, "page-planner.png"))
        page.d.find_element(By.ID, "lang").click()
        title = page.d.find_element(By.CSS_SELECTOR, "header h1").text
        assert "开挖" in title, f"the language toggle did not switch to Chinese: {title!r}"
        status = page.d.find_element(By.ID, "load-status").text
        assert "段管线" in status, f"the pipe count line stayed in English: {status!r}"
        page.screenshot(os.path.join(out, "page-planner-zh.png"))
        page.d.find_element(By.ID, "lang").click()

        # 2. A role without gas: nothing of gas drawn or requested, a hidden-utility notice.
        page.d.find_element(By.ID, "logout").click()
        page.login(contractor_key)
        layers = page.js("return document.body.dataset.layers").split(",")
        assert "RQ" not in layers, f"the contractor's page lists gas: {layers}"
        page.view(lat, lon, 21)
        page.dig(ring, 2.0)
        assert page.js("return document.querySelectorAll('path.layer-RQ').length") == 0, "a gas pipe was drawn for the contractor"
        assert page.js("return document.querySelectorAll('#conflicts tr[data-layer=\"RQ\"]').length") == 0, \
            "the contractor's list shows a gas conflict"
        page.wait(lambda: page.js("return !document.getElementById('hidden-box').hidden"), "the hidden-utility notice")
        notices = page.js("return [...document.querySelectorAll('#hidden li')].map(e => e.dataset.owner)")
        assert GAS_OWNER in notices, f"the hidden-utility notice does not name {GAS_OWNER}: {notices}"
        page.js("window.subterra.map.setZoom(19, {animate: false})")
        time.sleep(0.5)
        page.screenshot(os.path.join(out, "page-no-gas.png"))
        fetched = page.resources()
        gas_requests = [u for u in fetched if "/collections/RQ" in u]
        assert not gas_requests, f"the contractor's page requested gas: {gas_requests}"

        # 3. Offline: every resource came from the server itself.
        foreign = [u for u in fetched if not (u.startswith(base + "/") or u.startswith("blob:") or u.startswith("data:"))]
        assert not foreign, f"the page fetched from other hosts: {foreign}"
        log(f"ok: planner sees the critical gas conflict; contractor without gas gets the notice only "
            f"({len(fetched)} requests, all to {base})")
        return 0
    except Exception as e:
        log(f"FAIL {e}")
        traceback.print_exc(file=sys.stderr)
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(out, "failure.png"))
                log(f"screenshot of the failure: {os.path.join(out, 'failure.png')}")
            except Exception:
                pass
        return 1
    finally:
        if driver is not None:
            try:
                with open(os.path.join(out, "console.log"), "w") as f:
                    for entry in driver.get_log("browser"):
                        f.write(json.dumps(entry) + "\n")
            except Exception:
                pass
            driver.quit()
        server.stop()


def main():
    # SIGTERM (CI cancelling the run) unwinds like Ctrl-C, so the finally blocks stop the
    # browser and the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.environ.get("SUBTERRA_BIN", os.path.join(ROOT, ".build", "debug", "subterra")))
    parser.add_argument("--out", default=os.environ.get("TEST_OUT", os.path.join(ROOT, ".build", "browser-test")))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not os.access(args.bin, os.X_OK):
        log(f"FAIL no subterra binary at {args.bin} (build first)")
        return 1
    return run(os.path.abspath(args.bin), os.path.abspath(args.out))


if __name__ == "__main__":
    sys.exit(main())
