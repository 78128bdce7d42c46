# ruff: noqa: F811 - fixtures imported from the apps' conftest files are redefined as arguments
"""With Chinese chosen, no page a demo role reaches shows one of the project's own English labels.

The list of words is read from the .po files: every msgid that is an ordinary word or two (e.g.
"Cases", "Household", "Sign out", "status") and has a translation. The browser signs in as each
role of the cast, starts from the landing page and follows every link it finds on the site (the
nav, the workbench and grid pages, the lists, a row of each list, the admin), one page of each shape,
and reads what a person sees: the page's text, its title, and the options of its lists.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest

from cases import services as case_services
from tests.cases.conftest import units  # noqa: F401 - fixture
from tests.conftest import PASSWORD
from tests.registry.conftest import people  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES_PER_ROLE = 90

# One to three ordinary words: letters, spaces, hyphens, an apostrophe.
_WORDS = re.compile(r"^[A-Za-z][A-Za-z'\-]*( [A-Za-z][A-Za-z'\-]*){0,2}$")
# Words that may rightly show in a Chinese page: the language menu names English in English.
ALLOWED = {"English"}
# Links a crawl does not follow: signing out, language, files and downloads, the API and its docs.
SKIP = re.compile(
    r"/accounts/logout|/i18n/|/api/|/files/|\.xlsx|export=|/admin/logout|/admin/password_change"
    r"|/admin/jsi18n|/reveal/|/history/|/delete/"
)


def _po_files() -> list[Path]:
    return [p for p in ROOT.rglob("locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts]


def _msgids(path: Path) -> set[str]:
    """Single-line msgids with a non-empty single-line msgstr."""
    found = set()
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith('msgid "') and lines[i + 1].startswith('msgstr "'):
            msgid, msgstr = line[7:-1], lines[i + 1][8:-1]
            if msgid and msgstr and msgid != msgstr:
                found.add(msgid)
    return found


def project_words() -> set[str]:
    words = set()
    for path in _po_files():
        words |= {m for m in _msgids(path) if _WORDS.match(m) and len(m) >= 3}
    return words - ALLOWED


def english_in(text: str, words: set[str]) -> list[str]:
    """The project's words found whole (not inside a longer word or an identifier) in `text`."""
    return sorted(w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text))


def test_word_list_is_built_from_the_catalogues_and_catches_a_label():
    words = project_words()
    assert {"Cases", "Household", "Sign out"} <= words
    assert english_in("事件 Household 户", words) == ["Household"]
    assert english_in("shangwang_staff 上望街道", words) == []


def _shape(url: str) -> str:
    """One page per shape: ids become N, and only the query's keys count."""
    parsed = urlparse(url)
    keys = ",".join(sorted({k for k, _v in parse_qsl(parsed.query)} - {"after", "page", "o", "p"}))
    return re.sub(r"\d+", "N", parsed.path) + "?" + keys


def _visible_text(page) -> str:
    return page.evaluate(
        """() => [document.title, document.body.innerText,
             ...Array.from(document.querySelectorAll('option')).map(o => o.textContent),
             ...Array.from(document.querySelectorAll('[placeholder]')).map(e => e.placeholder),
             ...Array.from(document.querySelectorAll('input[type=submit],button')).map(e => e.value || '')
           ].join('\\n')"""
    )


def _crawl(page, base: str, words: set[str]) -> tuple[dict[str, list[str]], int]:
    seen: set[str] = set()
    queue = deque([f"{base}/"])
    offending: dict[str, list[str]] = {}
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.popleft()
        shape = _shape(url)
        if shape in seen:
            continue
        seen.add(shape)
        response = page.goto(url)
        visited += 1
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found = english_in(_visible_text(page), words)
        if found:
            offending[urlparse(url).path + ("?" + urlparse(url).query if urlparse(url).query else "")] = found
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            if href.startswith(base) and not SKIP.search(href):
                queue.append(href.split("#", 1)[0])
    return offending, visited


@pytest.fixture
def lived_in(cast, people, units):  # noqa: F811 - the imported fixtures
    """A case at each stage the pages show, with a registered party and a position."""
    recorded = case_services.case_record(
        actor=cast.village_member,
        node=cast.plot_a1,
        kind="dispute",
        sub_kind="neighbour",
        source="visit",
        title="宅基地边界纠纷",
        latitude="27.78",
        longitude="120.65",
        residents=[people.r1],
        parties=[{"name": "王五", "role": "邻居"}],
    )
    dispatched = case_services.case_record(
        actor=cast.township_a_staff,
        node=cast.plot_a2,
        kind="hazard",
        sub_kind="fire",
        source="patrol",
        title="楼道堆放杂物",
    )
    case_services.case_dispatch(
        actor=cast.township_a_staff,
        case=dispatched,
        responsible_unit=units.police,
        responsible_person=cast.department_user,
    )
    return recorded


ROLES = ["city_admin", "shangwang_admin", "shangwang_staff", "jiusan_member", "dept_police"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_english_label_on_any_page_a_role_reaches_in_chinese(cast, lived_in, live_server):
    from playwright.sync_api import sync_playwright

    words = project_words()
    (ARTIFACTS / "english-words.json").unlink(missing_ok=True)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    report: dict[str, dict[str, list[str]]] = {}
    counts: dict[str, int] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for username in ROLES:
                context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{live_server.url}/accounts/login/")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                offending, counts[username] = _crawl(page, live_server.url, words)
                if offending:
                    report[username] = offending
                context.close()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        _end_server_sessions()
    # Each role saw a good part of the site (the crawl did not stop at the sign-in page).
    assert all(n >= 8 for n in counts.values()), counts
    if report:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "english-words.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    assert report == {}


def _end_server_sessions():
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    # The live server opens a connection per request and closes it (CONN_MAX_AGE 0 in the test
    # settings): nothing of it is left to end. Ending sessions here killed the next module's own.
    connection.close()
