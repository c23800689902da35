"""The site in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

Opens index.html from the file system, clicks through to a sample of every benchmark, and
checks what is shown: no console error, every picture loaded, the numbers on the page equal
the result files and the site's data, sorting orders the list. Skipped, with the reason,
where Chromium or Playwright is missing (``.ci/run`` installs both, so CI runs it).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from avu import BENCHMARK_IDS
from tests.explore.test_site import index_of, read_data
from tests.helpers.cli import run_cli


def _chromium() -> str:
    for name in (os.environ.get("AVU_CHROMIUM"), "chromium", "chromium-browser"):
        path = shutil.which(name) if name else None
        if path:
            return path
    reason = "Chromium not found (apt-get install chromium, or set AVU_CHROMIUM to its binary)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, but CI must run the browser test")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed, but CI must run the browser test")
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        # the Debian binary, never a downloaded one; no sandbox: CI runs as root in a container
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


class Page:
    """A page that records console errors and waits for the app to finish each view."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.wait()

    def wait(self) -> None:
        self.page.wait_for_function(
            "document.body.dataset.ready === (location.hash || '#/')", timeout=20000)

    def go(self, hash_: str) -> None:
        self.page.evaluate(f"location.hash = {json.dumps(hash_)}")
        self.wait()

    def click(self, selector: str) -> None:
        self.page.click(selector)
        self.wait()

    def images_loaded(self, scope: str) -> int:
        """Number of pictures under ``scope``; fails if one did not load (lazy ones are asked for first)."""
        self.page.eval_on_selector_all(f"{scope} img", "els => els.forEach(e => { e.loading = 'eager'; })")
        self.page.wait_for_function(
            f"[...document.querySelectorAll({json.dumps(scope + ' img')})].every(e => e.complete)", timeout=20000)
        bad = self.page.eval_on_selector_all(
            f"{scope} img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)")
        assert bad == []
        return self.page.eval_on_selector_all(f"{scope} img", "els => els.length")

    def number(self, key: str) -> str:
        """The text shown for the number with this data-key."""
        return self.page.inner_text(f'[data-key="{key}"]')

    def numbers(self, prefix: str) -> dict[str, tuple[str, str]]:
        """data-key -> (text shown, data-value) of the numbers whose key starts with ``prefix``."""
        return dict(self.page.eval_on_selector_all(
            f'[data-key^="{prefix}"]', "els => els.map(e => [e.dataset.key, [e.textContent, e.dataset.value]])"))


def _shown_equals(text: str, value: float | None, digits: int) -> bool:
    if value is None:
        return text == "—"
    return f"{value:.{digits}f}" == text


@pytest.fixture(scope="module")
def report_site(report_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "site"
    run = run_cli("explore", report_folder, "--out", out, "--workers", "2")
    assert run.code == 0, run.err
    return out


def test_overview_numbers_equal_the_result_files(browser, report_site, scored):
    page = Page(browser, (report_site / "index.html").as_uri())
    shown = page.numbers("run/")
    for b in BENCHMARK_IDS:
        metrics = json.loads(scored[b]["prior"].read_text())["metrics"]
        for name, value in metrics.items():
            text, raw = shown[f"run/{b}/{name}"]
            assert float(raw) == value and _shown_equals(text, value, 2)
    assert page.errors == []


@pytest.mark.parametrize("bench", BENCHMARK_IDS)
def test_click_through_to_a_sample(browser, report_site, bench):
    meta = index_of(report_site, bench)
    digits = meta["metric"]["digits"]
    page = Page(browser, (report_site / "index.html").as_uri())
    page.click(f'header nav a[data-nav="{bench}"]')
    assert page.images_loaded("#samples") == min(50, meta["count"])  # thumbnails of the first page only

    # ascending by the per-sample metric, samples without a value last
    ids = page.page.eval_on_selector_all("#samples tbody tr", "els => els.map(e => Number(e.dataset.i))")
    values = [meta["rows"][i]["m"][0] for i in ids]
    present = [v for v in values if v is not None]
    assert present == sorted(present) and values[len(present):] == [None] * (len(values) - len(present))
    for i in ids:
        assert _shown_equals(page.number(f"row/{i}/m0"), meta["rows"][i]["m"][0], digits)
    page.page.select_option("#dir", "desc")
    page.wait()
    ids_desc = page.page.eval_on_selector_all("#samples tbody tr", "els => els.map(e => Number(e.dataset.i))")
    desc = [meta["rows"][i]["m"][0] for i in ids_desc if meta["rows"][i]["m"][0] is not None]
    assert desc == sorted(desc, reverse=True)

    # the worst sample's view
    page.page.select_option("#dir", "asc")
    page.wait()
    page.click("#samples tbody tr:first-child a.open")
    i = ids[0]
    row = meta["rows"][i]
    assert page.page.inner_text("#sample-id") == row["id"]
    assert _shown_equals(page.number("sample/0"), row["m"][0], digits)
    _, chunk = read_data(report_site / "explore" / "data" / bench / f"d{i // meta['chunk']}.js")
    detail = chunk[str(i)]
    n_images = page.images_loaded("#view")
    _check_view(page, bench, detail, n_images)
    assert page.errors == []


def _check_view(page: Page, bench: str, detail: dict, n_images: int) -> None:
    run = detail["runs"][0]
    if bench in ("avs_s4", "avs_ms3", "avss"):
        frames = detail["truth"]["frames"]
        assert n_images == frames * (2 if bench == "avss" else 1)
        values = run["frame_miou"] if bench == "avss" else run["iou"]
        shown = page.numbers("frame/0/")
        for t, v in enumerate(values):
            assert _shown_equals(shown[f"frame/0/{t}"][0], v, 2)
        if bench == "avss":  # every class in the picture has its name and colour in the legend
            legend = page.page.eval_on_selector_all("#class-legend [data-class]", "els => els.map(e => e.dataset.class)")
            assert set(detail["truth"]["classes"]) | set(run["predicted_classes"]) == set(legend)
    elif bench == "vggss":
        assert n_images == 2
        assert _shown_equals(page.number("ciou/0"), run["ciou"], 3)
        assert _shown_equals(page.number("threshold/0"), run["threshold"], 4)
    elif bench == "ave":
        assert n_images == 1
        assert _shown_equals(page.number("video/0"), run["metric"], 2)
        cells = page.page.eval_on_selector_all("table.timeline tr:nth-child(3) td.seg", "els => els.map(e => e.title)")
        assert len(cells) == 10
    elif bench == "llp":
        assert n_images == 1
        shown = page.numbers("f/0/")
        for name, v in run["scores"].items():
            assert _shown_equals(shown[f"f/0/{name}"][0], v, 2)
    elif bench == "avqa":
        assert n_images == 1
        assert page.page.inner_text("#question") == detail["truth"]["question"]
        assert page.page.inner_text("#answer") == detail["truth"]["answer"]
        assert page.page.inner_text('.predicted[data-run="0"]') == run["answer"]


def test_two_results_side_by_side(browser, scored, tiny_suite, tmp_path):
    out = tmp_path / "pair"
    run = run_cli("explore", "--result", scored["avss"]["prior"], "--result", scored["avss"]["oracle"],
                  "--label", "prior", "--label", "oracle", "--data-root", tiny_suite, "--out", out)
    assert run.code == 0, run.err
    page = Page(browser, (out / "index.html").as_uri())
    shown = page.numbers("run")
    for k, kind in enumerate(("prior", "oracle")):
        for name, value in json.loads(scored["avss"][kind].read_text())["metrics"].items():
            assert _shown_equals(shown[f"run{k}/{name}"][0], value, 2)
    meta = index_of(out, "avss")
    page.go("#/b/avss?sort=d&dir=desc")
    ids = page.page.eval_on_selector_all("#samples tbody tr", "els => els.map(e => Number(e.dataset.i))")
    diffs = [meta["rows"][i]["m"][1] - meta["rows"][i]["m"][0] for i in ids]
    assert diffs == sorted(diffs, reverse=True)
    for i in ids[:3]:
        assert _shown_equals(page.number(f"row/{i}/d"), meta["rows"][i]["m"][1] - meta["rows"][i]["m"][0], 2)
    page.click("#samples tbody tr:first-child a.open")
    frames = page.page.eval_on_selector_all("table.frames tr", "els => els.length")
    assert frames == 1 + 1 + 2  # header, ground truth, one row per run
    page.images_loaded("#view")
    page.go("#/b/avss?ok=m0h1")  # the filter "miss A, hit B" keeps exactly such samples
    kept = page.page.eval_on_selector_all("#samples tbody tr", "els => els.map(e => Number(e.dataset.i))")
    assert sorted(kept) == [r["i"] for r in meta["rows"] if r["ok"] == [False, True]] and kept
    assert page.errors == []
