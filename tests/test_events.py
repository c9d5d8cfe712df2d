"""World events through real sockets: triggers of every kind, severed exits, questions put to a
room, the festival loop, the @event commands and who may use them, reloading, restarting."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from mud.core.app import App
from tests.client import login
from tests.conftest import spawn_server
from world.scripting import loader

PROMPT = r"(?s).*?\n> "
FAST = 3600.0  # time scale: a game hour passes in 1/12 of a real second


@pytest.fixture
def events_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder of event files the server reads instead of the shipped ones."""
    folder = tmp_path / "events"
    folder.mkdir()
    monkeypatch.setattr(loader, "EVENTS_DIR", folder)

    def write(**events: str) -> Path:
        for name, text in events.items():
            (folder / f"{name}.yaml").write_text(textwrap.dedent(text))
        return folder

    return write


async def run(c, line):
    """Type a line and return everything up to the next prompt (earlier output skipped)."""
    await asyncio.sleep(0.05)
    c.pos = len(c.text)
    return await c.cmd(line, PROMPT)


async def with_role(server: App, name: str, role: str):
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], role)
    return c


PARADE = """
    name: parade
    title: A small parade
    room: festival_grounds
    steps:
      - id: gather
        act: Gathering
        do: set
        flag: marching
        value: 1
      - do: announce
        everyone: true
        text: The parade is forming on the grounds.
      - do: wait
        for: 2h
      - id: march
        act: Marching
        do: announce
        everyone: true
        text: The parade marches past.
"""


async def test_event_commands_and_who_may_use_them(server, events_dir):
    events_dir(parade=PARADE)
    assert server.events.reload() == []
    player = await login(server.port, "Pell")
    bildo = await with_role(server, "Bildo", "builder")
    keeper = await with_role(server, "Keeper", "admin")
    await player.cmd("@event list", "You can't do that.")
    await player.cmd("@event start parade", "You can't do that.")
    out = await run(bildo, "@event list")
    assert "parade  A small parade" in out and "trigger: manual; idle" in out
    await bildo.cmd("@event start parade", "Only admins may start, stop or reload events")
    await bildo.cmd("@event reload", "Only admins may")
    assert "parade" not in server.events.runtime.running
    await keeper.cmd(
        "@event start parade", r"You start parade\. \(waiting at step 3, act: Gathering\)"
    )
    await player.expect("The parade is forming on the grounds.")
    await keeper.cmd("@event start parade", "parade is already running")
    await keeper.cmd("@event start nothing", "There is no event called 'nothing'.")
    out = await run(bildo, "@event status parade")
    for part in ("state: waiting, act: Gathering", "step: 3 of 4 (wait, last label 'gather')",
                 "parade.yaml:14", "started: manual by Keeper", "flags: marching=1",
                 "next wake-up: in 2h of game time"):  # fmt: skip
        assert part in " ".join(out.split()), part
    out = await run(bildo, "@event status")
    assert "parade" in out and "waiting at step 3" in out
    await keeper.cmd("@event stop parade", "You stop parade")
    await keeper.cmd("@event stop parade", "parade isn't running.")
    out = await run(keeper, "@event list")
    assert "idle (last: stopped by Keeper" in out
    await keeper.cmd("@audit 5", r"(?s)event.*start parade.*event.*stop parade")
    await keeper.cmd("@event dance", "Usage: @event list")
    for c in (player, bildo, keeper):
        await c.close()


async def test_enter_keyword_and_choose_through_the_game(server, events_dir):
    events_dir(
        greeter="""
            name: greeter
            title: Greeter
            triggers:
              - when: enter
                room: festival_grounds
            steps:
              - do: if
                flag: met
                scope: actor
                then: done
              - do: announce
                actor: true
                text: A herald bows to {actor}.
              - do: set
                flag: met
                scope: actor
              - id: done
                do: end
        """,
        riddle="""
            name: riddle
            title: The riddle
            triggers:
              - when: say
                room: festival_grounds
                keywords: riddle me
            steps:
              - do: prompt
                room: festival_grounds
                text: The herald asks, "What grows when shared?"
                wait: 1h
                options:
                  - word: stories
                    goto: right
                  - word: secrets
              - do: announce
                room: festival_grounds
                text: The herald shakes his head.
              - do: end
              - id: right
                do: announce
                room: festival_grounds
                text: The herald beams. "Stories, of course."
        """,
    )  # fmt: skip
    server.events.reload()
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    await a.cmd("up", "A herald bows to Ada.")
    await b.cmd("up", r"(?s)Festival Grounds.*?> ")
    await a.cmd("down", "Dreamwave Nexus")
    out = await run(a, "up")
    assert "herald bows" not in out  # once per dreamer: a per-player flag
    await a.cmd("choose stories", "Nothing is being asked here right now.")
    await a.cmd("say will you riddle me this?", "What grows when shared")
    await b.expect(r"choose stories")
    await a.cmd("choose", r"(?s)What grows when shared.*Choose one of: stories, secrets\.")
    await a.cmd("choose secrets", "You choose secrets.")
    await a.cmd("choose sto", "You choose stories.")
    await b.cmd("choose stories", "You choose stories.")
    await a.expect(r"The answer is stories \(2 of 2 chose it\)\.")
    await a.expect(r'The herald beams\. "Stories, of course\."')
    for c in (a, b):
        await c.close()


async def test_severed_exits_refuse_go_and_heal_on_time(server, events_dir):
    events_dir(storm="""
        name: storm
        title: Storm
        steps:
          - do: sever
            room: nexus
            exit: north
            for: 2h
            message: A wall of static blocks the way to the tides.
          - do: sever
            room: nexus
            exit: west
          - do: wait
            for: 6h
          - do: restore
            room: nexus
            exit: west
        """)  # fmt: skip
    server.events.reload()
    a = await login(server.port, "Ada")
    keeper = await with_role(server, "Keeper", "admin")
    await keeper.cmd("@event start storm", "You start storm")
    await a.expect("The way north flickers and goes dark.")
    await a.cmd("north", "A wall of static blocks the way to the tides.")
    await a.cmd("go west", "The way west is severed: only static hisses")
    await a.cmd("look north", "Sanctuary of Returning Tides")  # you can still see where it led
    await a.cmd("look", r"Exits: north \(severed\), east, south, west \(severed\), up")
    out = await run(keeper, "@examine north")
    assert "severed" in out
    server.scheduler.set_time_scale(FAST)  # two game hours: about a sixth of a second
    await a.expect("The way north shimmers back into being.", timeout=3)
    await a.cmd("north", "Sanctuary of Returning Tides")
    await a.cmd("south", r"Exits: north, east, south, west \(severed\), up")
    await a.expect("The way west shimmers back into being.", timeout=3)
    await a.cmd("look", r"Exits: north, east, south, west, up\r\n")
    await a.cmd("west", "Listening Grove")
    for c in (a, keeper):
        await c.close()


LOOP_EVENT = """
    name: salon
    title: A salon
    room: festival_pavilion
    steps:
      - do: open_loop
        npc: lyra
        title: The Salon Loop
        stability: 60
      - do: wait
        for: 10m
      - do: move
        npc: lyra
        to: loop
      - id: opened
        do: wait
        for: 1h
      - do: stability
        change: -40
        reason: A chill runs through the salon.
      - do: wait
        for: 1h
      - do: close_loop
        text: The salon winds down.
"""


async def test_festival_loop_merge_decline_and_stability_triggers(server, events_dir):
    events_dir(
        salon=LOOP_EVENT,
        chill="""
            name: chill
            title: A chill
            triggers:
              - when: stability
                below: 30
            steps:
              - do: announce
                room: loop
                text: Candles gutter all around the salon.
        """,
        warmth="""
            name: warmth
            title: Warmth
            triggers:
              - when: stability
                above: 60
                host: lyra
            steps:
              - do: announce
                room: loop
                text: The salon glows warmer.
        """,
        herald="""
            name: herald
            title: Herald
            triggers:
              - when: step
                event: salon
                step: opened
            steps:
              - do: announce
                everyone: true
                text: The herald cries that the salon is open.
        """,
    )  # fmt: skip
    server.events.reload()
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    c = await login(server.port, "Cyd")
    for who in (a, b):
        await who.cmd("up", "Festival Grounds")
        await who.cmd("north", "Lyra's Pavilion")
    keeper = await with_role(server, "Keeper", "admin")
    await c.cmd("merge lyra", "Lyra Kinsey hasn't invited you into a loop.")
    await keeper.cmd("@event start salon", "You start salon")
    await a.expect(r"Lyra Kinsey opens The Salon Loop and invites you in\. Type merge lyra")
    await b.expect("merge lyra")
    await c.cmd("merge lyra", "hasn't invited you")  # only the dreamers present were asked
    await a.cmd("merge", "Lyra Kinsey invites you into The Salon Loop: merge lyra")
    await b.cmd("decline lyra", "You politely decline to join The Salon Loop.")
    await b.cmd("merge lyra", "hasn't invited you")
    await a.cmd("merge lyra", r"(?s)The Salon Loop.*Lyra Kinsey stands\s+at its heart")
    await a.cmd("merge lyra", "You are already part of The Salon Loop, Lyra Kinsey's loop.")
    await a.cmd("loop", "stability 60")
    server.scheduler.set_time_scale(FAST)
    await a.expect("Lyra Kinsey arrives.", timeout=3)
    await a.expect("The herald cries that the salon is open.")  # a step trigger
    await c.expect("The herald cries that the salon is open.")
    server.scheduler.set_time_scale(1)  # hold here a while
    await a.cmd("weave a candle that remembers every birthday", "weaves")
    loop = server.world.dreams.loop_of(server.world.players_by_key["ada"])
    server.world.dreams.adjust_stability(loop, 5, "A kind word.")
    await a.expect("The salon glows warmer.")  # rose above 60
    server.scheduler.set_time_scale(FAST)
    await a.expect(r"The loop shudders \(stability 25\)\. A chill runs through", timeout=3)
    await a.expect("Candles gutter all around the salon.")  # fell below 30
    await a.expect("The salon winds down.", timeout=3)
    await a.expect("you wake where you joined it")
    await a.cmd("look", "Lyra's Pavilion")
    assert loop.state == "archived"
    for who in (a, b, c, keeper):
        await who.close()


async def test_schedule_triggers_follow_the_clock_speed(server, events_dir):
    events_dir(bell="""
        name: bell
        title: The hourly bell
        triggers:
          - when: schedule
            every: 1h
        steps:
          - do: announce
            everyone: true
            text: A bell tolls the hour.
        """)  # fmt: skip
    server.events.reload()
    server.events.runtime.repeat_quiet = 0  # hear every bell (the repeat limiter is tested apart)
    a = await login(server.port, "Ada")
    due = server.events.runtime.timers["schedule:bell:0"]
    assert due % 3600 == 0 and 0 < due - server.world.clock.game_seconds() <= 3600
    server.scheduler.set_time_scale(FAST)  # at the usual speed an hour is five minutes
    await a.expect("A bell tolls the hour.", timeout=3)
    await a.expect("A bell tolls the hour.", timeout=3)
    await a.cmd("time", r"Time runs 3600x faster than usual here\.")
    await a.close()


async def test_reload_swaps_only_valid_files_and_running_events_carry_on(server, events_dir):
    folder = events_dir(parade=PARADE)
    server.events.reload()
    keeper = await with_role(server, "Keeper", "admin")
    await keeper.cmd("@event start parade", "You start parade")
    (folder / "parade.yaml").write_text(
        textwrap.dedent(PARADE).replace("The parade marches past.", "A new ending.")
    )
    (folder / "broken.yaml").write_text("name: broken\ntitle: Broken\nsteps:\n  - do: fly\n")
    out = " ".join((await run(keeper, "@event reload")).split())
    assert (
        "problem(s); nothing was changed" in out and "broken.yaml:4: steps.0: unknown step" in out
    )
    (folder / "broken.yaml").unlink()
    await keeper.cmd("@event reload", r"Reloaded 1 event\(s\): parade\. Running events finish")
    server.scheduler.set_time_scale(FAST)
    await keeper.expect("The parade marches past.", timeout=3)  # the version it began with
    await keeper.cmd("@event start parade", "You start parade")
    await keeper.expect("A new ending.", timeout=3)
    await keeper.close()


async def test_a_restart_resumes_running_events_where_they_were(make_server, events_dir, tmp_path):
    events_dir(
        parade=PARADE,
        blackout="""
            name: blackout
            title: Blackout
            steps:
              - do: sever
                room: nexus
                exit: south
                for: 3h
              - do: wait
                for: 1d
        """,
    )  # fmt: skip
    db = f"sqlite:///{tmp_path / 'events.db'}"
    app = await make_server(db=db)
    keeper = await with_role(app, "Keeper", "admin")
    await keeper.cmd("@event start parade", "You start parade")
    await keeper.cmd("@event start blackout", "You start blackout")
    app.scheduler.set_time_scale(2.0)  # a little faster: the wait runs down before the stop
    await asyncio.sleep(0.5)
    await app.stop()
    await keeper.wait_closed()

    app = await make_server(db=db)
    rt = app.events.runtime
    assert sorted(rt.running) == ["blackout", "parade"]
    parade = rt.running["parade"]
    assert parade.step == 2 and parade.flags == {"marching": 1} and parade.act == "Gathering"
    left = parade.wake_at - app.world.clock.game_seconds()
    assert 2 * 3600 - 600 < left < 2 * 3600 - 1  # the time it had left, not a fresh wait
    assert app.world.rooms_by_key["nexus"].find_exit("south").attrs.get("severed")
    keeper = await login(app.port, "Keeper", create=False)
    out = await run(keeper, "@event status parade")
    assert "state: waiting, act: Gathering" in out
    app.scheduler.set_time_scale(FAST)
    await keeper.expect("The parade marches past.", timeout=3)
    await keeper.expect("The way south shimmers back into being.", timeout=3)
    assert "parade" not in rt.running and "blackout" in rt.running
    await keeper.close()
    ended = rt.history["parade"]
    assert ended.startswith("finished at 20"), ended

    # how each event's last run ended survives a restart too
    await app.stop()
    app = await make_server(db=db)
    assert app.events.runtime.history["parade"] == ended
    keeper = await login(app.port, "Keeper", create=False)
    out = await run(keeper, "@event list")
    assert f"idle (last: {ended})" in " ".join(out.split())
    await keeper.close()


def test_time_scale_setting_from_the_environment_and_flags(monkeypatch):
    from mud.config import Settings

    monkeypatch.setenv("DREAMWAVE_TIME_SCALE", "50")
    assert Settings.load().time_scale == 50.0
    assert Settings.load(time_scale=120.0).time_scale == 120.0  # the flag wins


async def test_time_scale_flag(tmp_path):
    sp = await spawn_server(tmp_path / "fast.db", "--time-scale", "120")
    try:
        c = await login(sp.port, "Ada")
        await c.cmd("time", r"Time runs 120x faster than usual here\.")
        await c.close()
    finally:
        sp.proc.terminate()
        sp.proc.wait()
    assert "event script(s) loaded" in sp.log
