"""The review app in a real browser: Debian's Chromium driven by Playwright, against the app served by
uvicorn on loopback, on a database filled by the real pipeline (the demo blog served on loopback,
real Apertium, real SQLite, the outbox channel writing files).

One pipeline run, one server and one browser per module; each test works on its own review item
(post × language), and the source-change test, which makes new items, runs last.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from syndication import pipeline
from syndication.context import RunContext
from syndication.demo import DemoServer, demo_dir, prepare_demo, serve_site
from syndication.store import Post, TranslatedSegment, Translation
from syndication.web.app import create_app
from syndication.web.publishing import Publisher
from syndication.web.users import add_user
from tests.web.live import LiveServer

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
NEW_POST = "netvaerk-er-guld"
OLD_POST = "messebesoeg-i-berlin-og-landdistrikterne"
PASSWORD = "correct horse battery staple"
UNKNOWN = ("butikken på gården", "gårdbutikken")


@dataclass
class Demo:
    site: DemoServer
    ctx: RunContext
    app_url: str

    def item(self, slug: str, lang: str) -> int:
        """The review item of the post's current revision."""
        with self.ctx.store.session() as session:
            return session.scalars(
                select(Translation.id)
                .join(Post, Post.id == Translation.post_id)
                .where(
                    Post.url.like(f"%/{slug}/"),
                    Translation.lang == lang,
                    Translation.revision_id == Post.current_revision_id,
                )
            ).one()

    def item_of_post(self, post_id: int, lang: str = "nb") -> int:
        with self.ctx.store.session() as session:
            return session.scalars(
                select(Translation.id).where(Translation.post_id == post_id, Translation.lang == lang)
            ).one()

    def segment(self, tid: int, key: str) -> TranslatedSegment:
        with self.ctx.store.session() as session:
            return session.scalars(
                select(TranslatedSegment).where(
                    TranslatedSegment.translation_id == tid, TranslatedSegment.key == key
                )
            ).one()

    def status(self, tid: int) -> str:
        with self.ctx.store.session() as session:
            row = session.get(Translation, tid)
            assert row is not None
            return row.status

    def outbox(self) -> Path:
        extra = self.ctx.settings.channels["outbox"].model_extra or {}
        return self.ctx.settings.resolve_path(extra["path"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("review-browser")
    root = tmp / "site"
    shutil.copytree(demo_dir() / "site", root)
    # A word Apertium's dictionary lacks, so the engine's QA flags are on the page for real.
    for relative in ("feed/index.xml", f"{NEW_POST}/index.html"):
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert UNKNOWN[0] in text
        path.write_text(text.replace(UNKNOWN[0], UNKNOWN[1]), encoding="utf-8")
    with serve_site(root) as site:
        # Editors decide here: nothing is auto-approved.
        template = (demo_dir() / "syndication.toml").read_text(encoding="utf-8")
        template = template.replace('auto_approve = ["nb", "sv"]', "auto_approve = []")
        (tmp / "template.toml").write_text(template, encoding="utf-8")
        config = prepare_demo(tmp / "work", site.base_url, template=tmp / "template.toml")
        ctx = RunContext.open(config)
        summary = pipeline.syndicate(ctx)
        assert summary.translations_new == 4 and summary.awaiting_review == 4, summary
        with ctx.store.session() as session:
            add_user(session, "anna", PASSWORD, role="editor")
            add_user(session, "admin", PASSWORD, role="admin")
        app = create_app(ctx, publisher=Publisher(ctx, prefect_api_url=None))
        with LiveServer(app) as server:
            yield Demo(site=site, ctx=ctx, app_url=server.url)
        ctx.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def log_in(page: Page, demo: Demo, user: str = "anna", path: str = "/") -> None:
    page.goto(demo.app_url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def editor(page: Page, key: str):
    return page.locator(f"#seg-{key} .seg-editor")


def test_log_in_edit_a_segment_keeping_its_chips_approve_and_find_it_in_the_outbox(page: Page, demo: Demo):
    tid = demo.item(NEW_POST, "nb")
    log_in(page, demo)
    # The queue: both languages of both posts, newest first, with QA flag counts.
    expect(page.locator("table.queue tbody tr")).to_have_count(4)
    expect(page.locator("table.queue")).to_contain_text("Netværk er guld")
    expect(page.locator(f'table.queue a[href="/items/{tid}"]').locator("xpath=../..")).to_contain_text("⚑")
    page.locator(f'a[href="/items/{tid}"]').click()
    expect(page.locator("h1")).to_have_text("Netværk er guld – men kun når vi giver noget af os selv")
    # The engine's QA flag sits beside the segment it is about.
    expect(page.locator("#seg-b3 .flag")).to_contain_text("gårdbutikken")

    # b14 links to the Berlin post: the link is a chip the editor cannot break by typing.
    box = editor(page, "b14")
    expect(box.locator(".chip")).to_have_count(2)
    expect(box.locator('.chip[data-ph="open"]')).to_have_attribute("title", re.compile(OLD_POST))
    box.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Takk for at du leser!")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#seg-b14 .seg-status")).to_have_text("Saved")
    expect(box.locator(".chip")).to_have_count(2)
    saved = demo.segment(tid, "b14")
    assert saved.origin == "human" and saved.updated_by == "anna"
    assert saved.target.endswith("Takk for at du leser!")
    assert '<g id="1">' in saved.target and "</g>" in saved.target
    # Ctrl+Enter moved on to the next open segment.
    expect(editor(page, "b15")).to_be_focused()

    # The screenshot for the README: the top of the page (header, decision bar, the first segments
    # with chips and a QA flag); the phone and reopened views are saved by the tests below.
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    page.screenshot(
        path=str(ARTIFACTS / "review-item.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 1380},
    )
    # docs/review-item.png is a committed copy of this file, refreshed by hand when the page changes
    # (a test run must not modify tracked files).
    page.locator("#seg-b14").evaluate("el => el.scrollIntoView({block: 'center', behavior: 'instant'})")
    page.screenshot(path=str(ARTIFACTS / "review-item-edited.png"))

    # Approving with open QA flags asks first.
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash-ok")).to_contain_text(
        "Approved. It goes out with the next scheduled publish run."
    )
    assert dialogs and "QA flags" in dialogs[0]
    # The decision goes on to the next nb item waiting (the older post), naming the one approved.
    expect(page).to_have_url(f"{demo.app_url}/items/{demo.item(OLD_POST, 'nb')}")
    expect(page.locator(".flash-ok")).to_contain_text(f"Item {tid}: Approved.")
    assert "`" not in (page.locator(".flash-ok").text_content() or "")
    assert demo.status(tid) == "approved"
    page.goto(f"{demo.app_url}/items/{tid}")
    expect(page.locator("#item-status")).to_have_text("approved")

    # What `syndicate publish` does, then the outbox has the edited text and the page shows it sent.
    pipeline.deliver(demo.ctx)
    document = (demo.outbox() / "nb" / f"{NEW_POST}.html").read_text(encoding="utf-8")
    assert "Takk for at du leser!" in document
    assert f"/{OLD_POST}/" in document  # the link inside the edited segment survived
    page.reload()
    expect(page.locator("tr.delivery[data-channel=outbox]")).to_contain_text("sent")


def test_removing_a_placeholder_is_refused_and_a_chip_click_puts_it_back(page: Page, demo: Demo):
    tid = demo.item(NEW_POST, "sv")
    before = demo.segment(tid, "b7")
    log_in(page, demo, path=f"/items/{tid}")
    box = editor(page, "b7")
    expect(box.locator(".chip")).to_have_count(2)
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Sparring – någon att bolla idéer med")
    expect(box.locator(".chip")).to_have_count(0)
    page.locator("#seg-b7 button", has_text="Save").click()
    status = page.locator("#seg-b7 .seg-status")
    expect(status).to_contain_text("Not saved")
    expect(status).to_contain_text("placeholder")
    expect(box).to_contain_text("någon att bolla idéer med")  # the editor's words are kept
    after = demo.segment(tid, "b7")
    assert (after.target, after.version) == (before.target, before.version)

    # Select "Sparring" and click the chip in the Danish text: the pair wraps the selection.
    box.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.locator('#seg-b7 .source-text .chip[data-ph="open"]').click()
    expect(box.locator(".chip")).to_have_count(2)
    page.keyboard.press("Control+Enter")
    expect(status).to_have_text("Saved")
    assert demo.segment(tid, "b7").target.startswith('<g id="1">Sparring')

    # The same without the mouse: F9 puts the missing pair back around the selected word.
    box = editor(page, "b8")
    expect(box.locator(".chip")).to_have_count(2)
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Kännedom – tillgång till erfarenheter och kontakter")
    expect(box.locator(".chip")).to_have_count(0)
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("F9")
    expect(box.locator(".chip")).to_have_count(2)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#seg-b8 .seg-status")).to_have_text("Saved")
    assert demo.segment(tid, "b8").target.startswith('<g id="1">Kännedom</g>')


def test_reject_with_a_comment(page: Page, demo: Demo):
    tid = demo.item(OLD_POST, "nb")
    log_in(page, demo, path=f"/items/{tid}")
    page.get_by_label("Comment (optional)").fill("Oversættelsen af fagordene er for løs.")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".flash-ok")).to_contain_text("Rejected.")
    expect(page.locator("#item-status")).to_have_text("rejected")
    expect(page.locator("#history")).to_contain_text("Oversættelsen af fagordene er for løs.")
    assert demo.status(tid) == "rejected"


def test_an_admin_publishes_now_and_sees_the_delivery(page: Page, demo: Demo):
    tid = demo.item(OLD_POST, "sv")
    log_in(page, demo, user="admin", path=f"/items/{tid}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Item {tid}: Approved.")
    page.goto(f"{demo.app_url}/items/{tid}")
    expect(page.locator("#item-status")).to_have_text("approved")
    page.get_by_role("button", name="Publish now").click()
    expect(page.locator(".flash-ok")).to_contain_text("Published now: sent 1")
    expect(page.locator("tr.delivery[data-channel=outbox]")).to_contain_text("sent")
    assert (demo.outbox() / "sv" / f"{OLD_POST}.html").is_file()


def test_without_javascript_the_textarea_saves_and_a_broken_placeholder_is_refused(
    browser: Browser, demo: Demo
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        tid = demo.item(NEW_POST, "sv")
        log_in(page, demo, path=f"/items/{tid}")
        raw = page.locator("#seg-b2 textarea")
        expect(raw).to_be_visible()
        expect(page.locator("#seg-b2 .seg-editor")).to_be_hidden()
        raw.fill("Från kaffemöte till kompanjonskap")
        page.locator("#seg-b2 button", has_text="Save").click()
        expect(page.locator(".flash-ok")).to_have_text("Saved segment b2.")
        assert demo.segment(tid, "b2").target == "Från kaffemöte till kompanjonskap"
        # The page comes back scrolled to the saved segment, not hidden under the sticky decision bar.
        assert page.evaluate("window.scrollY") > 0
        bar = page.locator("#decision").bounding_box()
        saved = page.locator("#seg-b2").bounding_box()
        assert bar and saved
        assert saved["y"] >= bar["y"] + bar["height"] - 1
        page.locator("#seg-b9 textarea").fill("Inflytande – en röst när kommunen planerar")
        page.locator("#seg-b9 button", has_text="Save").click()
        expect(page.locator("#seg-b9 .seg-status")).to_contain_text("Not saved")
    finally:
        context.close()


def test_two_editors_on_one_segment_the_second_sees_a_conflict(browser: Browser, demo: Demo):
    tid = demo.item(NEW_POST, "sv")
    first, second = browser.new_context(), browser.new_context()
    try:
        anna, admin = first.new_page(), second.new_page()
        log_in(anna, demo, user="anna", path=f"/items/{tid}")
        log_in(admin, demo, user="admin", path=f"/items/{tid}")
        for page, words in (
            (anna, "Vad vill du få ut av nätverket?"),
            (admin, "Vad vill du ha av nätverket?"),
        ):
            box = editor(page, "b5")
            box.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(words)
        anna.locator("#seg-b5 button", has_text="Save").click()
        expect(anna.locator("#seg-b5 .seg-status")).to_have_text("Saved")
        admin.locator("#seg-b5 button", has_text="Save").click()
        status = admin.locator("#seg-b5 .seg-status")
        expect(status).to_contain_text("anna changed this segment")
        expect(admin.locator("#seg-b5 .seg-theirs")).to_contain_text("Vad vill du få ut av nätverket?")
        expect(editor(admin, "b5")).to_have_text("Vad vill du ha av nätverket?")  # nothing lost
        assert demo.segment(tid, "b5").target == "Vad vill du få ut av nätverket?"
        # Having seen anna's text, the second editor saves on purpose.
        admin.locator("#seg-b5 button", has_text="Save").click()
        expect(status).to_have_text("Saved")
        expect(admin.locator("#seg-b5 .seg-theirs")).to_have_count(0)
        assert demo.segment(tid, "b5").target == "Vad vill du ha av nätverket?"
    finally:
        first.close()
        second.close()


def test_the_decision_bar_follows_what_this_editor_has_seen(browser: Browser, demo: Demo):
    """QA flags raised or cleared by edits on the page count when approving; another editor's edit
    that this page never showed makes the decision stale, even after this editor saved their own."""
    tid = demo.item(NEW_POST, "sv")
    first, second = browser.new_context(), browser.new_context()
    try:
        anna, other = first.new_page(), second.new_page()
        log_in(anna, demo, user="anna", path=f"/items/{tid}")
        log_in(other, demo, user="admin", path=f"/items/{tid}")
        expect(anna.locator(".seg.seg-open.seg-flagged")).to_have_count(0)
        dialogs: list[str] = []

        def dismiss(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        anna.on("dialog", dismiss)

        # A much too short translation of a long sentence gets a QA flag when saved ...
        box = editor(anna, "b3")
        box.click()
        anna.keyboard.press("Control+A")
        anna.keyboard.type("Kort.")
        anna.keyboard.press("Control+Enter")
        expect(anna.locator("#seg-b3 .seg-status")).to_have_text("Saved")
        expect(anna.locator("#seg-b3 .flag")).to_contain_text("length")
        expect(anna.locator("#flag-count")).to_have_text("1")
        # ... and approving now asks about it (dismissed: nothing is decided).
        with anna.expect_event("dialog"):
            anna.get_by_role("button", name="Approve").click()
        assert "QA flags" in dialogs[0]
        assert demo.status(tid) == "machine_translated"

        # The other editor changes a segment; this page does not show it.
        box = editor(other, "b10")
        box.click()
        other.keyboard.press("Control+End")
        other.keyboard.type(" Välkommen!")
        other.locator("#seg-b10 button", has_text="Save").click()
        expect(other.locator("#seg-b10 .seg-status")).to_have_text("Saved")

        # This editor writes a real translation: the flag goes, and so does the question.
        box = editor(anna, "b3")
        box.click()
        anna.keyboard.press("Control+A")
        anna.keyboard.type(
            "På landsbygden är avstånden långa och företagen små. Den lokala snickaren, gårdsbutiken "
            "och den lilla konsulten har sällan en hel avdelning för produktutveckling. I gengäld "
            "känner de varandra väl nog för att be om hjälp."
        )
        anna.locator("#seg-b3 button", has_text="Save").click()
        expect(anna.locator("#seg-b3 .seg-status")).to_have_text("Saved")
        expect(anna.locator("#seg-b3 .flag")).to_have_count(0)
        expect(anna.locator("#flag-count")).to_have_text("0")
        anna.get_by_role("button", name="Approve").click()
        expect(anna.locator("#item-error")).to_contain_text("changed since you opened it")
        assert len(dialogs) == 1  # no new question: no flags are left
        assert demo.status(tid) == "machine_translated"
    finally:
        first.close()
        second.close()


def test_phone_layout_stacks_source_above_translation(browser: Browser, demo: Demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        tid = demo.item(NEW_POST, "nb")
        log_in(page, demo, path=f"/items/{tid}")
        source = page.locator("#seg-b1 .seg-source").bounding_box()
        target = page.locator("#seg-b1 .seg-form").bounding_box()
        assert source and target
        assert target["y"] >= source["y"] + source["height"] - 1
        assert target["width"] > 300
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing forces sideways scrolling
        page.screenshot(path=str(ARTIFACTS / "review-item-phone.png"))
    finally:
        context.close()


def test_logging_in_again_loses_no_unsaved_work(browser: Browser, demo: Demo):
    tid = demo.item(NEW_POST, "sv")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    try:
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved edits?"
        log_in(tab, demo, path=f"/items/{tid}")
        box = editor(tab, "b12")
        box.click()
        tab.keyboard.press("Control+End")
        tab.keyboard.type(" Utkast ett.")
        before = demo.segment(tid, "b12").target

        # The session ends elsewhere (another tab logs out); a reload shows the login page.
        other = context.new_page()
        other.goto(f"{demo.app_url}/")
        other.get_by_role("button", name="Log out").click()
        tab.keyboard.press("Control+Enter")
        expect(tab.locator("#seg-b12 .seg-status")).to_contain_text("your session ended")
        tab.reload()
        expect(tab).to_have_url(re.compile(r"/login\?next="))
        tab.get_by_label("User name").fill("anna")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        # Back on the item: the unsaved edit came back from the browser's storage.
        expect(editor(tab, "b12")).to_contain_text("Utkast ett.")
        expect(tab.locator("#seg-b12 .seg-status")).to_contain_text("unsaved edit is back")
        assert demo.segment(tid, "b12").target == before
        editor(tab, "b12").click()
        tab.keyboard.press("Control+Enter")
        expect(tab.locator("#seg-b12 .seg-status")).to_have_text("Saved")
        assert demo.segment(tid, "b12").target.endswith("Utkast ett.")

        # A login in another tab changes the CSRF token; this tab, never reloaded, still saves.
        box = editor(tab, "b11")
        box.click()
        tab.keyboard.press("Control+End")
        tab.keyboard.type(" Utkast två.")
        other.goto(f"{demo.app_url}/")
        other.get_by_role("button", name="Log out").click()
        other.get_by_label("User name").fill("anna")
        other.get_by_label("Password").fill(PASSWORD)
        other.get_by_role("button", name="Log in").click()
        expect(other.get_by_role("button", name="Log out")).to_be_visible()
        box.click()
        tab.keyboard.press("Control+Enter")
        expect(tab.locator("#seg-b11 .seg-status")).to_have_text("Saved")
        assert demo.segment(tid, "b11").target.endswith("Utkast två.")
        # Saved edits leave nothing behind in the browser.
        drafts = tab.evaluate("Object.keys(localStorage).filter(k => k.startsWith('syndication-draft:'))")
        assert drafts == []
    finally:
        context.close()


def _key_of(demo: Demo, tid: int, source_start: str) -> str:
    from syndication.store import SegmentRow

    with demo.ctx.store.session() as session:
        return session.scalars(
            select(TranslatedSegment.key)
            .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
            .where(TranslatedSegment.translation_id == tid, SegmentRow.source.startswith(source_start))
        ).one()


def test_memory_match_inserted_by_key_and_a_save_propagated_to_the_repeating_excerpt(page: Page, demo: Demo):
    from syndication.translations.stage import translate_pending
    from tests.web.support import POST_HTML, store_post

    # Two posts of their own (the other tests decide the demo's items): the first repeats its first
    # paragraph as the excerpt (with WordPress's "…"), the second has that paragraph with one word changed.
    first = "Vi holdt et stort møde i forsamlingshuset med hele programmet på plads."
    one = store_post(demo.ctx, key="assist-1", title="Mødet i huset", html=POST_HTML, excerpt=first + "…")
    two = store_post(
        demo.ctx, key="assist-2", title="Mødet igen", html=POST_HTML.replace("hele programmet", "hele planen")
    )
    translate_pending(demo.ctx)

    tid, other = demo.item_of_post(one), demo.item_of_post(two)
    paragraph, excerpt = _key_of(demo, tid, "Vi holdt et <g"), _key_of(demo, tid, first)
    log_in(page, demo, path=f"/items/{tid}")
    box = editor(page, paragraph)
    box.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Velkommen!")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{paragraph} .seg-status")).to_have_text("Saved")
    offer = page.locator(f"#seg-{paragraph} .propagate")
    expect(offer).to_contain_text("this item")
    offer.get_by_role("button", name="Apply to the selected").click()
    expect(offer.locator(".propagate-status")).to_have_text("Applied to 1 segment(s).")
    # The excerpt has the words without the paragraph's chips, marked for a look.
    expect(editor(page, excerpt)).to_contain_text("Velkommen!")
    expect(page.locator(f"#seg-{excerpt} .origin")).to_have_text("propagated")
    saved = demo.segment(tid, excerpt)
    assert saved.origin == "propagated" and saved.target.endswith("Velkommen!…") and "<g" not in saved.target

    # The second post: the edited paragraph is a fuzzy memory match; Alt+1 inserts it, chips mapped.
    page.goto(f"{demo.app_url}/items/{other}")
    target_key = _key_of(demo, other, "Vi holdt et <g")
    match = page.locator(f"#seg-{target_key} .memory-match").first
    expect(match.locator(".memory-score")).to_have_text(re.compile(r"^(7[5-9]|8\d|9\d) %$"))
    expect(match.locator(".memory-diff del")).to_contain_text("programmet")
    page.locator(f"#seg-{target_key}").evaluate(
        "el => el.scrollIntoView({block: 'center', behavior: 'instant'})"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-memory.png"))
    editor(page, target_key).click()
    page.keyboard.press("Alt+1")
    expect(editor(page, target_key)).to_contain_text("Velkommen!")
    expect(editor(page, target_key).locator(".chip")).to_have_count(4)
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{target_key} .seg-status")).to_have_text("Saved")
    assert demo.segment(other, target_key).target == demo.segment(tid, paragraph).target


def test_a_learned_correction_is_suggested_applied_by_key_and_later_applied_before_review(
    page: Page, demo: Demo
):
    from syndication.store import LearnedCorrection
    from syndication.translations.stage import translate_pending
    from tests.web.support import store_post

    # Apertium takes "gør" for the dog's "gø" (bjeffer) and "siger" for "sige" (siker).
    one = store_post(
        demo.ctx, key="learn-1", title="Om at sige ja", html="<p>Det gør jeg gerne, siger Mette.</p>"
    )
    two = store_post(
        demo.ctx,
        key="learn-2",
        title="Om at sige ja igen",
        html="<p>Det gør jeg gerne, siger Jens.</p><p>Hvad gør vi nu?</p>",
    )
    translate_pending(demo.ctx)
    first, second = demo.item_of_post(one), demo.item_of_post(two)
    key = _key_of(demo, first, "Det gør")
    assert demo.segment(first, key).target == "Det bjeffer jeg gjerne, siker Mette."
    log_in(page, demo, path=f"/items/{first}")
    box = editor(page, key)
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Det gjør jeg gjerne, sier Mette.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{key} .seg-status")).to_have_text("Saved")

    # The next post: the same errors come with a chip each, beside the memory match of the sentence.
    page.goto(f"{demo.app_url}/items/{second}")
    target = _key_of(demo, second, "Det gør")
    chips = page.locator(f"#seg-{target} .correction")
    expect(chips).to_have_count(2)
    expect(chips.first).to_contain_text("editors changed bjeffer to gjør 1 time for gør")
    expect(chips.nth(1)).to_contain_text("editors changed siker to sier 1 time for siger")
    expect(page.locator(f"#seg-{target} .memory-match")).to_have_count(1)
    expect(page.locator(f"#seg-{_key_of(demo, second, 'Hvad gør')} .correction")).to_have_count(1)
    page.locator(f"#seg-{target}").evaluate("el => el.scrollIntoView({block: 'center', behavior: 'instant'})")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-corrections.png"))
    # One key applies the next one; the words of the other are left to the second press.
    editor(page, target).click()
    page.keyboard.press("Alt+c")
    expect(editor(page, target)).to_have_text("Det gjør jeg gjerne, siker Jens.")
    expect(chips.first).to_have_class(re.compile(r"\bcorrection-applied\b"))
    page.keyboard.press("Alt+c")
    expect(editor(page, target)).to_have_text("Det gjør jeg gjerne, sier Jens.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{target} .seg-status")).to_have_text("Saved")
    assert demo.segment(second, target).target == "Det gjør jeg gjerne, sier Jens."
    with demo.ctx.store.session() as session:
        made = {
            (c.term, c.wrong, c.right): c.uses
            for c in session.scalars(select(LearnedCorrection).where(LearnedCorrection.target_lang == "nb"))
        }
    # (The other tests' edits of the demo's items taught their own corrections.)
    assert made[("gør", "bjeffer", "gjør")] == 2 and made[("siger", "siker", "sier")] == 2

    # Confirmed after two segments: with the switch on, the next post arrives corrected and marked.
    demo.ctx.settings.review.auto_apply_corrections = 2
    try:
        three = store_post(demo.ctx, key="learn-3", title="Sådan gør vi", html="<p>Det gør vi hvert år.</p>")
        translate_pending(demo.ctx)
        third = demo.item_of_post(three)
        page.goto(f"{demo.app_url}/items/{third}")
        applied = _key_of(demo, third, "Det gør")
        expect(editor(page, applied)).to_contain_text("Det gjør vi")
        expect(page.locator(f"#seg-{applied} .learned")).to_contain_text("learned: bjeffer → gjør")
        page.locator(f"#seg-{applied}").screenshot(path=str(ARTIFACTS / "review-learned-applied.png"))
    finally:
        demo.ctx.settings.review.auto_apply_corrections = 0


def test_a_source_change_after_approval_reopens_only_that_segment(page: Page, demo: Demo):
    tid = demo.item(NEW_POST, "sv")
    log_in(page, demo, path=f"/items/{tid}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve").click()
    # The app goes on to the next waiting item, if any (the memory test left some); back to this one.
    expect(page.get_by_text(f"Item {tid}: Approved.")).to_be_visible()
    page.goto(f"{demo.app_url}/items/{tid}")
    expect(page.locator("#item-status")).to_have_text("approved")

    # The blogger edits one sentence of the post; the next run picks the change up.
    for relative in ("feed/index.xml", f"{NEW_POST}/index.html"):
        path = demo.site.root / relative
        text = path.read_text(encoding="utf-8")
        assert "de låner en trailer ud" in text
        path.write_text(text.replace("de låner en trailer ud", "de låner en trailer og en stige ud"), "utf-8")
    summary = pipeline.syndicate(demo.ctx, deliver_approved=False)
    assert summary.revisions_new >= 1, summary
    new = demo.item(NEW_POST, "sv")
    assert new != tid

    page.goto(f"{demo.app_url}/items/{new}")
    open_segments = page.locator(".seg.seg-open")
    expect(open_segments).to_have_count(1)
    changed = open_segments.first
    expect(changed.locator(".diff ins")).to_contain_text("og en stige")
    expect(changed.locator(".diff del")).to_have_count(0)
    expect(page.locator(".seg.seg-approved")).to_have_count(len(page.locator(".seg").all()) - 1)
    # Every segment approved before keeps its text, the human edits included.
    expect(editor(page, "b2")).to_have_text("Från kaffemöte till kompanjonskap")
    page.get_by_label("only open segments").check()
    expect(page.locator(".seg:visible")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "review-reopened.png"), full_page=False)


def test_saved_and_confirmed_segments_count_as_done_at_once_and_after_a_reload(page: Page, demo: Demo):
    tid = demo.item(OLD_POST, "nb")  # rejected above, with a comment: still editable
    log_in(page, demo, path=f"/items/{tid}")
    # The rejection comment is at the top of the item, not only in the collapsed history.
    expect(page.locator("#rejection")).to_contain_text("Oversættelsen af fagordene er for løs.")
    count = page.locator("#open-count")
    before = int(count.text_content() or "0")
    keys = page.locator(".seg.seg-open").evaluate_all("els => els.map(e => e.dataset.key)")
    first, second = keys[0], keys[1]
    # Ctrl+Enter on an unchanged segment confirms it ...
    editor(page, first).click()
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{first} .seg-status")).to_have_text("Saved")
    expect(page.locator(f"#seg-{first}")).to_have_class(re.compile(r"\bseg-done\b"))
    expect(page.locator(f"#seg-{first} .seg-state")).to_have_text("done")
    expect(count).to_have_text(str(before - 1))
    expect(page.locator("#decision-progress .open-left")).to_have_text(str(before - 1))
    # ... and focus moved on to the next open one; an edit there is done too.
    expect(editor(page, second)).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Slutt.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{second} .seg-status")).to_have_text("Saved")
    expect(count).to_have_text(str(before - 2))
    assert demo.segment(tid, first).state == "done" and demo.segment(tid, second).state == "done"
    page.get_by_label("only open segments").check()
    expect(page.locator(f"#seg-{first}")).to_be_hidden()
    expect(page.locator(".seg:visible")).to_have_count(before - 2)
    page.reload()
    expect(page.locator("#open-count")).to_have_text(str(before - 2))
    expect(page.locator("#decision-progress .open-left")).to_have_text(str(before - 2))
    expect(page.locator(f"#seg-{second}")).to_have_class(re.compile(r"\bseg-done\b"))

    # Find in this item: only segments with the words stay visible.
    page.locator("#seg-filter").fill("Slutt.")
    expect(page.locator(".seg:visible")).to_have_count(1)
    expect(page.locator(f"#seg-{second}")).to_be_visible()
    page.locator("#seg-filter").fill("")
    expect(page.locator(".seg.filtered-out")).to_have_count(0)


def test_a_chip_pair_inserted_without_a_selection_takes_the_words_typed_next(page: Page, demo: Demo):
    tid = demo.item(OLD_POST, "nb")
    log_in(page, demo, path=f"/items/{tid}")
    # A segment with exactly one pair of chips (a link or emphasis) and nothing else.
    key = page.locator(".seg").evaluate_all(
        """els => els.filter(e => e.querySelectorAll('.source-text .chip').length === 2
                && e.querySelectorAll('.source-text .chip[data-ph="open"]').length === 1)
             .map(e => e.dataset.key)[0]"""
    )
    assert key, "the demo post has a segment with one link or emphasis"
    box = editor(page, key)
    for insert in ("F9", "click"):
        box.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("Les mer ")
        expect(box.locator(".chip")).to_have_count(0)
        page.keyboard.press("Control+End")
        if insert == "F9":
            page.keyboard.press("F9")
        else:
            page.locator(f'#seg-{key} .source-text .chip[data-ph="open"]').click()
        expect(box.locator(".chip")).to_have_count(2)
        page.keyboard.type(f"her {insert}")
        page.keyboard.press("Control+Enter")
        expect(page.locator(f"#seg-{key} .seg-status")).to_have_text("Saved")
        target = demo.segment(tid, key).target
        assert re.fullmatch(rf'Les mer <g id="\d+">her {insert}</g>', target), target
