"""Screenshot of the tagging page with a seed report tagged: ``python scripts/screenshot_page.py --out docs/page.png``.

Starts the API on a free loopback port with the given model, drives Debian's headless Chromium
through Selenium, pastes the document, tags it and saves a PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policytag.labels.documents import read_document
from policytag.serving.demo import running_server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", default="models/demo")
    ap.add_argument("--document", default="seeds/001_98a81501e618baf7.txt")
    ap.add_argument("--out", default="docs/page.png")
    args = ap.parse_args()
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    flags = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"
    for arg in [*flags.split(), "--disable-sync", "--no-first-run", "--window-size=1400,1200"]:
        opts.add_argument(arg)
    text = read_document(args.document).text
    with running_server(args.model) as base:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            driver.get(base + "/")
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: "macro-F1" in d.find_element(By.ID, "model-info").text)
            driver.execute_script("arguments[0].value = arguments[1];", driver.find_element(By.ID, "doc-text"), text)
            driver.find_element(By.ID, "tag-text").click()
            wait.until(ec.visibility_of_element_located((By.ID, "result")))
            driver.execute_script(
                "document.getElementById('result').scrollIntoView();"
                "const doc = document.getElementById('document');"
                "const first = [...doc.querySelectorAll('.sent')].find(n => n.dataset.labels !== 'other');"
                "if (first) { doc.scrollTop = first.offsetTop - doc.offsetTop - 40; first.click(); }"
            )
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
