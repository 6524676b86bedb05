#!/usr/bin/env python3
"""Checks a `rig matrix` report.html as a person sees it: rendered by headless Chromium.

usage: check_report_page.py REPORT_HTML ARCH... [--screenshot PNG] [--timeout SECONDS]

Passes when the rendered page has a grid column headed by each ARCH given, every failing,
erroring or missing cell shows its status as text and links to a log file that exists (the
href resolved as the browser does, against the report's own location), and a screenshot of
the page can be taken. Prints a short summary; exits 1 naming each problem otherwise.
Python standard library only; Chromium from $CHROMIUM or the PATH.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
from html.parser import HTMLParser

NOT_PASSING = ("fail", "error", "miss")
MIN_SCREENSHOT_BYTES = 5000
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class CheckFailed(Exception):
    """A check that cannot go on (no browser, a page that does not render)."""


class Grid(HTMLParser):
    """The grid as rendered: column headers and test cells (elements with data-arch or
    data-status), each with its visible text and the links inside it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.columns = []  # {"arch", "board", "text"}
        self.cells = []  # {"test", "board", "status", "text", "hrefs"}
        self._open = []  # (tag, record or None) for the th/td elements being read

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("th", "td"):
            record = None
            if tag == "th" and "data-arch" in a and "data-board" in a:
                record = {"arch": a["data-arch"], "board": a["data-board"], "text": ""}
                self.columns.append(record)
            elif tag == "td" and "data-status" in a:
                record = {"test": a.get("data-test", "?"), "board": a.get("data-board", "?"),
                          "status": a["data-status"], "text": "", "hrefs": []}
                self.cells.append(record)
            self._open.append((tag, record))
        elif tag == "a" and "href" in a:
            for _, record in reversed(self._open):
                if record is not None and "hrefs" in record:
                    record["hrefs"].append(a["href"])
                    break
        elif tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            while self._open:
                if self._open.pop()[0] == tag:
                    break

    def handle_data(self, data):
        for _, record in self._open:
            if record is not None:
                record["text"] += data


def find_browser():
    named = os.environ.get("CHROMIUM")
    if named:
        return named
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise CheckFailed("no Chromium found (tried %s); install Debian's chromium or set $CHROMIUM"
                      % ", ".join(BROWSERS))


def run_browser(browser, profile, args, url, timeout):
    """Runs one headless Chromium; returns its stdout. Kills the whole process group on a
    timeout, since Chromium's helpers would otherwise keep the pipes open."""
    argv = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-dev-shm-usage", "--user-data-dir=" + profile]
    if os.geteuid() == 0:
        argv.append("--no-sandbox")
    argv += args + [url]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise CheckFailed("%s did not finish within %d s (%s)" % (browser, timeout, " ".join(args)))
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-5:]
        raise CheckFailed("%s exited with %d (%s):\n  %s"
                          % (browser, proc.returncode, " ".join(args), "\n  ".join(tail)))
    return out.decode("utf-8", errors="replace")


def local_file(report_url, href):
    """The file an href of the page opens, or None when it leaves the local disk."""
    target = urllib.parse.urlsplit(urllib.parse.urljoin(report_url, href))
    if target.scheme != "file":
        return None
    return urllib.parse.unquote(target.path)


def check_columns(grid, archs):
    problems = []
    for arch in archs:
        headers = [c for c in grid.columns if c["arch"] == arch]
        if not headers:
            seen = ", ".join(sorted({c["arch"] for c in grid.columns})) or "none"
            problems.append("no grid column for arch %s (columns: %s)" % (arch, seen))
        for c in headers:
            if arch not in c["text"]:
                problems.append("the column of board %s does not show its arch %s, only %r"
                                % (c["board"], arch, c["text"].strip()))
    return problems


def check_cells(grid, report_url):
    problems, logs = [], set()
    for cell in grid.cells:
        if cell["status"] not in NOT_PASSING:
            continue
        where = "%s on %s (%s)" % (cell["test"], cell["board"], cell["status"])
        if cell["status"] not in cell["text"].lower():
            problems.append("%s does not say %r in its text: %r"
                            % (where, cell["status"], cell["text"].strip()))
        if not cell["hrefs"]:
            problems.append("%s links no log" % where)
        for href in cell["hrefs"]:
            path = local_file(report_url, href)
            if path is None:
                problems.append("%s links %s, not a file beside the report" % (where, href))
            elif not os.path.isfile(path):
                problems.append("%s links %s, but %s does not exist" % (where, href, path))
            else:
                logs.add(path)
    return problems, logs


def check_screenshot(path):
    if not os.path.isfile(path):
        return ["no screenshot was written to %s" % path]
    with open(path, "rb") as f:
        head = f.read(8)
    size = os.path.getsize(path)
    if head != b"\x89PNG\r\n\x1a\n":
        return ["the screenshot %s is not a PNG" % path]
    if size < MIN_SCREENSHOT_BYTES:
        return ["the screenshot %s has only %d bytes: the page rendered (nearly) blank"
                % (path, size)]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="the report.html to check")
    parser.add_argument("archs", nargs="+", metavar="ARCH", help="an arch the grid must show")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="keep the screenshot here (default: discarded)")
    parser.add_argument("--timeout", type=int, default=90, metavar="SECONDS",
                        help="seconds per browser run")
    args = parser.parse_args()

    report = os.path.abspath(args.report)
    if not os.path.isfile(report):
        print("check_report_page: FAIL: %s does not exist" % report, file=sys.stderr)
        return 1
    report_url = "file://" + urllib.parse.quote(report)
    with tempfile.TemporaryDirectory(prefix="check-report-page-") as tmp:
        shot = os.path.join(tmp, "page.png")
        if args.screenshot:
            shot = os.path.abspath(args.screenshot)
        if os.path.exists(shot):
            os.remove(shot)
        try:
            browser = find_browser()
            dom = run_browser(browser, os.path.join(tmp, "profile"), ["--dump-dom"], report_url,
                              args.timeout)
            run_browser(browser, os.path.join(tmp, "profile"),
                        ["--screenshot=" + shot, "--window-size=1400,1000", "--hide-scrollbars"],
                        report_url, args.timeout)
        except CheckFailed as e:
            print("check_report_page: FAIL: %s" % e, file=sys.stderr)
            return 1
        grid = Grid()
        grid.feed(dom)
        grid.close()
        problems = check_columns(grid, args.archs)
        cell_problems, logs = check_cells(grid, report_url)
        problems += cell_problems + check_screenshot(shot)
        shot_bytes = os.path.getsize(shot) if os.path.isfile(shot) else 0

    if problems:
        for p in problems:
            print("check_report_page: FAIL: %s" % p, file=sys.stderr)
        print("check_report_page: %s: %d problem(s)" % (report, len(problems)), file=sys.stderr)
        return 1
    not_passing = sum(1 for c in grid.cells if c["status"] in NOT_PASSING)
    print("check_report_page: %s OK" % report)
    print("  columns: %s" % ", ".join("%s (%s)" % (c["arch"], c["board"]) for c in grid.columns))
    print("  cells: %d, not passing: %d, linking %d existing log(s)"
          % (len(grid.cells), not_passing, len(logs)))
    print("  screenshot: %d bytes%s" % (shot_bytes, " at " + shot if args.screenshot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
