"""The studio page in real Chromium: from drafts to an approved branch in a new story version.

The server writes drafts with a tiny random LM (gibberish, which is all the page needs)
and scores them with the real packaged MiniLM.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from narrative.stories import DEMO
from narrative.validate import load_story, validate_text
from server.routes.studio import STUDIO_CODES
from tests.genmodels.tiny_lm import build_tiny_lm
from tests.server.conftest import LiveServer, running, settings_for
from tests.web.conftest import DESKTOP, Pages
from web_client import STATIC_DIR


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    model = build_tiny_lm(tmp_path / "lm", chat_template=True)
    async with running(settings_for(tmp_path, text_model=str(model), gen_device="cpu")) as live:
        yield live


async def demo_room(server: LiveServer) -> tuple[str, str, int]:
    """A room for the bundled demo story, made as the host page makes one."""
    stories = (await server.http.get("/api/stories")).json()
    demo = next(s for s in stories if s["bundled"])
    created = await server.http.post("/api/rooms", json={"story_id": demo["id"]})
    assert created.status_code == 201, created.text
    return created.json()["code"], created.json()["host_token"], demo["id"]


def card(page: Page, n: int):
    return page.locator("article.draft").nth(n)


async def edit_and_save(page: Page, draft_id: str, label: str, text: str) -> None:
    one = page.locator(f'article.draft[data-id="{draft_id}"]')
    await one.locator(".draft-label").fill(label)
    await one.locator(".draft-text").fill(text)
    await one.locator("button.save").click()
    await expect(page.locator(f'article.draft[data-id="{draft_id}"] .draft-label')).to_have_value(
        label
    )
    await expect(page.locator(f'article.draft[data-id="{draft_id}"]')).not_to_have_attribute(
        "data-dirty", ""
    )


@pytest.mark.asyncio
async def test_a_writer_drafts_edits_and_approves_a_branch(server: LiveServer, pages: Pages):
    pages.allow_http_error(r"/api/studio/\w+/drafts/\d+/approve$")  # the refusal (422) below
    code, token, demo_id = await demo_room(server)
    demo = load_story(DEMO.read_text(encoding="utf-8"))
    votes = {s: len(scene.choice.options) for s, scene in demo.scenes.items() if scene.choice}
    # the fullest vote with room for one more (a vote holds at most 5 options)
    node = max((s for s in votes if votes[s] <= 4), key=lambda s: votes[s])
    existing = demo.scenes[node].choice.options[0].label

    page = await pages.open(f"{server.url}/studio#room={code}&token={token}", name="studio",
                            viewport=DESKTOP)  # fmt: skip
    await expect(page.locator("#story-title")).to_have_text(demo.title)
    assert "token" not in page.url  # the key leaves the address bar
    await page.select_option("#node", node)
    await expect(page.locator("#options li")).to_have_count(votes[node])
    await page.fill("#theme", "betrayal")
    await page.fill("#mood", "tense")
    await page.fill("#characters", "Mara, the conductor")
    await page.select_option("#count", "3")
    await page.evaluate("""() => {
        window.sawBusy = false;
        const button = document.querySelector('#draft');
        new MutationObserver(() => {
            if (button.disabled && button.textContent === 'Drafting…') window.sawBusy = true;
        }).observe(button, {attributes: true, childList: true, characterData: true, subtree: true});
    }""")
    await page.click("#draft")
    await expect(page.locator("article.draft")).to_have_count(3)
    assert await page.evaluate("window.sawBusy")
    await expect(page.locator("#draft")).to_be_enabled()
    for n in range(3):
        await expect(card(page, n).locator(".badge.diversity")).to_have_text(
            re.compile(r"^Diversity \d\.\d\d$")
        )
    await pages.shot(page, "drafts")

    # An edit that rewords an existing branch is flagged, visibly; a new idea is not.
    first = await card(page, 0).get_attribute("data-id")
    await edit_and_save(page, first, existing, f"{existing}, again.")
    flagged = page.locator(f'article.draft[data-id="{first}"]')
    await expect(flagged.locator(".flag")).to_have_text(re.compile(r"^Too similar to option"))
    await pages.shot(page, "too-similar")
    await edit_and_save(page, first, "Pull the emergency brake", "The train shrieks to a halt.")
    await expect(flagged.locator(".flag")).to_have_count(0)

    await flagged.locator("button.approve").click()
    await expect(page.locator("#approved")).to_be_visible()
    await expect(page.locator("#approved-title")).to_have_text(re.compile(r"new story #\d+"))
    new_id = int(re.search(r"#(\d+)", await page.locator("#approved-title").inner_text())[1])
    assert new_id != demo_id
    await expect(flagged.locator(".badge.status")).to_have_text(f"Approved into story #{new_id}")
    await expect(page.locator("#options li")).to_have_count(votes[node] + 1)
    await pages.shot(page, "approved")

    # The new version is a valid story holding the new scene; the room's story is untouched.
    record = await server.services.store.story(new_id)
    assert validate_text(record.source, "approved.yaml") == []
    story = load_story(record.source)
    option = story.scenes[node].choice.options[-1]
    assert option.label == "Pull the emergency brake"
    scene = story.scenes[option.goto]
    assert scene.generate.title == "The train shrieks to a halt."
    assert scene.media == demo.scenes[node].media
    assert server.services.rooms.get(code).record.story_id == demo_id

    # A room for the approved version, from the studio.
    await page.click("#new-room")
    link = page.locator("#new-room-link")
    await expect(link).to_have_attribute("href", re.compile(r"^/host\?room=\w+$"))
    new_code = (await link.get_attribute("href")).rsplit("=", 1)[1]
    assert server.services.rooms.get(new_code).record.story_id == new_id

    # Approving until the vote would have six options: refused with the validator's words.
    for n in range(1, 3):
        draft = card(page, 0)  # open drafts come first
        await draft.locator("button.approve").click()
        refused = draft.locator(".refused")
        approved = page.locator(".badge.status", has_text="Approved")
        await expect(refused.or_(approved.nth(n))).to_be_visible()
        if await refused.count():
            break
    await expect(refused.locator(".diagnostics li").first).to_contain_text("options-count")
    await expect(refused.locator(".where").first).to_have_text(re.compile(r"^\d+:\d+$"))
    await expect(refused.locator("strong")).to_have_text(re.compile("story would have errors"))
    assert await draft.locator(".draft-label").is_enabled()  # still a draft, nothing changed
    await pages.shot(page, "refused")


@pytest.mark.asyncio
async def test_without_the_host_key_the_studio_says_where_to_get_it(
    server: LiveServer, pages: Pages
):
    pages.allow_http_error(r"/api/studio/\w+$")
    page = await pages.open(f"{server.url}/studio", name="nokey", viewport=DESKTOP)
    await expect(page.locator("section[data-view=no-key]")).to_be_visible()
    code, _, _ = await demo_room(server)
    page = await pages.open(f"{server.url}/studio#room={code}&token=forged", name="forged",
                            viewport=DESKTOP)  # fmt: skip
    await expect(page.locator("section[data-view=no-key]")).to_be_visible()
    await expect(page.locator("#page-message")).to_contain_text("no longer valid")


def test_every_studio_error_code_has_a_friendly_text():
    explained = set(
        re.findall(r'^\s*"?([\w-]+)"?: \[', (STATIC_DIR / "errors.js").read_text(), re.M)
    )
    assert set(STUDIO_CODES) <= explained
