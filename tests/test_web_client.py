"""The browser client as players met it (issue 19): on a phone, with bigger text, after a
one-line login, on the channel panel, with dim text, and after leaving the game. Headless
Debian Chromium driven by playwright against the in-process server's web port, as in
tests/test_web.py (whose helpers these tests share)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import test_web
from tests.client import login
from tests.test_web import CHROMIUM, STATIC, open_page, see, type_line

browser = test_web.browser  # (the same fixture: Debian Chromium, headless)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium here")

AT_BOTTOM = "() => { const o = document.querySelector('#output');" \
    " return o.scrollHeight - o.scrollTop - o.clientHeight < 30; }"  # fmt: skip
PANEL_LINES = "() => [...document.querySelectorAll('#chan-lines li')].map(li => li.innerText)"


async def fill_output(page: Any, lines: int) -> None:
    """Type `look` until the output holds at least `lines` lines."""
    count = "() => document.querySelectorAll('#output .line').length"
    while await page.evaluate(count) < lines:
        before = await page.evaluate(count)
        await type_line(page, "look")
        await page.wait_for_function(f"n => ({count})() > n + 3", arg=before)


async def test_on_a_phone_the_output_scrolls_and_the_input_stays_on_screen(
    server: Any, browser: Any, tmp_path: Path
) -> None:
    page = await open_page(browser, server, width=390, height=844)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    await fill_output(page, 60)
    box = await page.evaluate(
        "() => { const o = document.querySelector('#output');"
        " return [o.clientHeight, o.scrollHeight]; }"
    )
    assert box[0] < box[1] < 100_000  # a scroll box, not a page as tall as the story
    field = await page.locator("#cmd").bounding_box()
    assert field is not None and field["y"] >= 0 and field["y"] + field["height"] <= 844
    assert await page.evaluate(AT_BOTTOM)
    await page.screenshot(path=str(tmp_path / "phone.png"))
    # turned into a desktop window: still following the story, no "new lines below"
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.wait_for_function(AT_BOTTOM)
    await type_line(page, "look")
    await page.wait_for_function(AT_BOTTOM)
    assert await page.is_hidden("#below")
    # scrolled up to read: new lines wait below, and the button brings them
    await page.evaluate("() => { document.querySelector('#output').scrollTop = 0; }")
    await type_line(page, "look")
    await page.wait_for_selector("#below", state="visible")
    await page.click("#below")
    await page.wait_for_function(AT_BOTTOM)
    await page.screenshot(path=str(tmp_path / "desktop-after-phone.png"))
    assert page.errors == []
    await page.close()


def web_conn(server: Any, name: str) -> Any:
    return next(
        c
        for c in server.gateway.conns.values()
        if isinstance(c.player, str) and c.player.lower() == name
    )


async def test_bigger_and_smaller_text_change_where_lines_wrap(server: Any, browser: Any) -> None:
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    conn = web_conn(server, "wren")
    start = conn.cols
    for _ in range(4):
        await page.click("#t-bigger")
    await page.wait_for_function(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--font') === '19px'"
    )
    for _ in range(50):
        if conn.cols < start:
            break
        await page.wait_for_timeout(100)
    bigger = conn.cols
    assert bigger < start  # the server now wraps at fewer, bigger columns
    await type_line(page, "client")
    await see(page, f"screen:        {bigger} x")  # the engine took the new width
    for _ in range(8):
        await page.click("#t-smaller")
    for _ in range(50):
        if conn.cols > start:
            break
        await page.wait_for_timeout(100)
    assert conn.cols > start
    assert page.errors == []
    await page.close()


SECRETS = ["connect Old oldpassword", "create Neo neopassword", "password oldpw newpw"]


async def test_lines_with_passwords_stay_out_of_the_input_history(
    server: Any, browser: Any
) -> None:
    page = await open_page(browser, server)
    # what an older page stored is cleared
    await page.evaluate(
        "h => localStorage.setItem('dw.history', JSON.stringify(h))", ["look", *SECRETS]
    )
    await page.reload()
    await see(page, "Name:")
    assert json.loads(await page.evaluate("() => localStorage.getItem('dw.history')")) == ["look"]
    await type_line(page, "create Dana danapassword")
    await see(page, "Exits:")
    await type_line(page, "inventory")
    await type_line(page, "password oldpw newpw")
    await see(page, "you'll be asked for each one")
    stored = await page.evaluate("() => localStorage.getItem('dw.history')")
    assert "password" not in stored and "inventory" in stored
    recalled = []
    for _ in range(4):
        await page.press("#cmd", "ArrowUp")
        recalled.append(await page.input_value("#cmd"))
    assert recalled == ["inventory", "look", "look", "look"]
    # the long way: the password is typed in the hidden field and never kept either
    await type_line(page, "quit")
    await page.wait_for_function(
        "() => document.querySelector('#output').innerText.split('Name:').length > 2"
    )
    await type_line(page, "Dana")
    await page.wait_for_selector("#pw", state="visible")
    await type_line(page, "danapassword")
    await see(page, "Exits:")
    assert "danapassword" not in await page.evaluate("() => JSON.stringify(localStorage)")
    assert page.errors == []
    await page.close()


async def test_channel_panel_shows_each_line_once_and_tabs_filter_it(
    server: Any, browser: Any
) -> None:
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    await page.wait_for_function("() => document.querySelectorAll('#tabs button').length > 2")
    tam = await login(server.gateway.port, "Tam")
    await tam.cmd("public hi all", "> ")
    await tam.cmd("newbie how do I fly?", "> ")
    await page.wait_for_function(f"() => ({PANEL_LINES})().length >= 2")
    assert await page.evaluate(PANEL_LINES) == [
        "[public] Tam: hi all",
        "[newbie] Tam: how do I fly?",
    ]
    # a tab shows that channel's lines, typing nothing and sending nothing
    output_before = await page.inner_text("#output")
    await page.click("#tabs button[data-channel='newbie']")
    await page.wait_for_function(f"() => ({PANEL_LINES})().length === 1")
    assert await page.evaluate(PANEL_LINES) == ["[newbie] Tam: how do I fly?"]
    assert await page.get_attribute("#tabs button[data-channel='newbie']", "aria-selected") == (
        "true"
    )
    await tam.cmd("newbie never mind", "> ")
    await tam.cmd("public still here", "> ")
    await page.wait_for_function(f"() => ({PANEL_LINES})().length === 2")
    assert await page.evaluate(PANEL_LINES) == [
        "[newbie] Tam: how do I fly?",
        "[newbie] Tam: never mind",
    ]
    await page.click("#tabs button[data-channel='public']")
    await page.wait_for_function(f"() => ({PANEL_LINES})().length === 2")
    assert await page.evaluate(PANEL_LINES) == ["[public] Tam: hi all", "[public] Tam: still here"]
    await page.click("#tabs button[data-channel='']")  # all of them again
    await page.wait_for_function(f"() => ({PANEL_LINES})().length === 4")
    assert await page.input_value("#cmd") == ""
    output_after = await page.inner_text("#output")
    assert "channel history" not in output_after
    assert "The last" not in output_after[len(output_before) :]
    await tam.close()
    assert page.errors == []
    await page.close()


# the contrast of every piece of text against what is behind it (WCAG 2 formulas)
CONTRAST_JS = """
() => {
  const lum = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    const [r, g, b] = m.slice(0, 3).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = (c) => !/rgba\\(.*,\\s*0\\)$/.test(c) && c !== 'transparent';
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (opaque(bg)) return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility() || el.closest('.sr-only')) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const fg = getComputedStyle(el).color, bg = behind(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) bad.push(`${el.textContent.trim().slice(0, 30)}: ${fg} on ${bg}`);
  }
  return bad;
}
"""


async def test_every_text_colour_is_readable_on_the_page(server: Any, browser: Any) -> None:
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    await type_line(page, "public hello")
    await type_line(page, "channels")
    await see(page, "(listen only)")  # |x: dim text, SGR 30
    await type_line(page, "channel history public")
    await see(page, "hello")
    assert await page.evaluate(CONTRAST_JS) == []
    await page.click("#t-contrast")
    await type_line(page, "channels")
    await page.wait_for_function(
        "() => document.querySelector('#output').innerText.split('(listen only)').length > 2"
    )
    assert await page.evaluate(CONTRAST_JS) == []
    assert page.errors == []
    await page.close()


def test_every_ansi_colour_is_readable_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node")
    script = """
    import { ansiSegments, freshState, contrast, PAGE } from '%s/ansi.js';
    const codes = [];
    for (let c = 30; c <= 37; c++) codes.push(`${c}`, `1;${c}`);
    for (let c = 90; c <= 97; c++) codes.push(`${c}`);
    for (let n = 0; n < 256; n++) codes.push(`38;5;${n}`);
    for (const rgb of ['0;0;0', '20;20;40', '255;255;255', '0;0;139']) codes.push(`38;2;${rgb}`);
    for (let b = 40; b <= 47; b++) {
      for (const f of ['', '30;', '37;', '97;']) codes.push(`${f}${b}`);
    }
    codes.push('7', '30;7', '37;47;7');
    const worst = [];
    for (const page of [PAGE.normal, PAGE.contrast]) {
      for (const code of codes) {
        const [seg] = ansiSegments(`\\x1b[${code}mX`, freshState(), page);
        const fg = seg.fg || (seg.bg ? null : 'default');
        if (fg === 'default') continue;  // the page's own colour, checked by the browser test
        const r = contrast(seg.fg, seg.bg || page);
        if (r < 4.5) worst.push(`${code} on ${page}: ${seg.fg}/${seg.bg} ${r.toFixed(2)}`);
      }
    }
    console.log(JSON.stringify(worst));
    """ % STATIC.as_posix()  # noqa: UP031
    res = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=30)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []


PANELS = (
    "() => [document.querySelector('#room-name').innerText,"
    " document.querySelectorAll('#here li').length, document.querySelectorAll('#exits button')"
    ".length, document.querySelector('#clock').innerText]"
)


async def test_panels_clear_when_the_dreamer_leaves_and_the_clock_ticks(
    server: Any, browser: Any
) -> None:
    server.world.clock.set_time_scale(100.0)  # twenty dream minutes a second
    tam = await login(server.gateway.port, "Tam")
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    await page.wait_for_function(f"() => ({PANELS})()[1] > 0")
    # the clock goes on between moves
    clock = await page.inner_text("#clock")
    await page.wait_for_function("c => document.querySelector('#clock').innerText !== c", arg=clock)
    # a dropped socket that resumes keeps the panels
    await page.wait_for_function("() => sessionStorage.getItem('dw.resume')")
    web_conn(server, "wren").transport.ws.transport.abort()
    await tam.cmd("say still here", "You say")
    await see(page, "still here")
    room, here, exits, _ = await page.evaluate(PANELS)
    assert room != "—" and here == 1 and exits > 0
    # booted: back at Name: with nothing left of the dreamer on the page
    ash = await login(server.gateway.port, "Ash")
    server.world.set_role(server.world.players_by_key["ash"], "admin")
    await ash.cmd("@boot wren", "You boot")
    await page.wait_for_function(
        "() => document.querySelector('#output').innerText.split('Name:').length > 2"
    )
    assert await page.evaluate(PANELS) == ["—", 0, 0, "—"]
    # in again, then the server forgets the page (as a restart does): cleared again
    await type_line(page, "connect Wren secretpass")
    await page.wait_for_function(f"() => ({PANELS})()[1] > 0")
    await page.wait_for_function("() => sessionStorage.getItem('dw.resume')")
    server.gateway.web.tokens.clear()
    web_conn(server, "wren").transport.ws.transport.abort()
    await page.wait_for_function(
        "() => document.querySelector('#output').innerText.split('Name:').length > 3"
    )
    assert await page.evaluate(PANELS) == ["—", 0, 0, "—"]
    await page.wait_for_timeout(300)
    assert (await page.evaluate(PANELS))[3] == "—"  # and the clock stays stopped
    await tam.close()
    await ash.close()
    assert page.errors == []
    await page.close()
