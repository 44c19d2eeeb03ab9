"""Property-based hostile input: random and adversarial updates from the wrong people.

Invariants, checked after every update: nothing crashes (no apology with an error id), every
update gets at most a short answer, no ticket changes without a permitted actor, and no owner
ever receives another owner's data. SQLite only: the invariants are not about the database,
and a fresh database per example keeps examples independent.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.clock import ManualClock
from models.ticket import Ticket, TicketEvent
from tests.conftest import _sqlite_url_with_schema
from tests.flows.complaint_steps import file_case
from tests.flows.harness import Desk
from tests.flows.repair_steps import file_home_repair, staffed

A, B, STRANGER, TECH, GROUP = 1001, 1002, 9001, 3002, -100777
SECRET = "SECRET-A-MARKER"
NASTY = (
    "\u202e", "\u200b", "\u200d", "\ufeff", "\x00", "\x07", "\r", "\n", "🔧", "👨‍👩‍👧",
    "مرحبا", "שלום", "<b>", "</i>", "&amp;", "{ref}", "{", "}", "%s", "\\", "'", '"',
)  # fmt: skip
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(NASTY), max_size=30).map("".join),

    st.builds(lambda n: "x" * n, st.integers(4000, 9000)),
    st.sampled_from(["/start", "/start AAAAAAAAAA", "/repair", "/my", "/queue", "/ticket",
                     "/ticket R-20261127-001", "/report", "/found", "/lost", "/cancel", "/help",
                     "/language", "/vacancy", "/complain", "/start@propdesk_test_bot x"]),
)  # fmt: skip
# Every complaint action, well formed, on A's repair (ticket 1) and A's complaint (ticket 2);
# person 1 is the receptionist, who may be made responsible.
FORGED = [f"c:{a}:{t}:{x}" for t in (1, 2) for a, x in (
    ("cls", "1"), ("maj", "1.0"), ("who", "1.0.1"), ("snd", "1.0.1.0"), ("rep", ""),
    ("sup", ""), ("prg", ""), ("opn", ""), ("res", ""), ("bak", ""), ("rsn", ""),
    ("rsp", "1"), ("fur", "y"), ("fua", ""), ("fud", ""), ("ofu", "y"))]  # fmt: skip
callback_data = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, t, x: f"r:{a}:{t}:{x}",
              st.sampled_from(["dsp", "rsg", "acc", "arr", "done", "ok", "rate", "nf", "fu",
                               "urg", "cxl", "mat", "fee", "rvd", "ret", "rea", "pau", "res"]),
              st.integers(-2, 5),
              st.sampled_from(["1", "5", "y", "n", "", "99999999999999999999"])),

    st.sampled_from(FORGED),
    st.builds(lambda a, t, x: f"c:{a}:{t}:{x}",
              st.sampled_from(["cls", "snd", "rsp", "prg", "zz"]), st.integers(-1, 4),
              st.sampled_from(["", "x", "1.1.2.1", "99999999999999999999", "1.0.-1.0"])),
    st.builds(lambda s, v: f"f:repair:{s}:{v}",
              st.sampled_from(["scope", "unit", "category", "photos", "appointment", "fees",
                               "confirm"]), st.sampled_from(["home", "yes", "done", "1", "x"])),
    st.sampled_from(["lang:xx", "lang:en", "t:1", "t:abc", "t:", "f:", "r:", "::::"]),
)  # fmt: skip
action = st.one_of(
    st.tuples(st.just("text"), st.sampled_from([B, STRANGER, TECH]), texts),
    st.tuples(st.just("press"), st.sampled_from([B, STRANGER, TECH]), callback_data),
    st.tuples(st.just("photo"), st.sampled_from([B, STRANGER]), st.none()),
    st.tuples(st.just("edit"), st.sampled_from([B, TECH]), texts),
    st.tuples(st.just("group"), st.sampled_from([B, STRANGER]), texts),
)


async def _events(desk: Desk, ref: str) -> tuple[str, int]:
    """A ticket's state and how many events its history has."""
    async with desk.session() as s:
        ticket = (
            await s.execute(
                select(Ticket).options(selectinload(Ticket.events)).where(Ticket.ref == ref)
            )
        ).scalar_one()
        return ticket.state, len(ticket.events)


async def _scenario(url: str, actions: list[tuple[str, int, Any]]) -> None:
    async with Desk(url, ManualClock()) as desk:
        await staffed(desk)
        await desk.owner(A, "1-2-301", lang="en")
        await desk.owner(B, "3-1-101", lang="en")
        desk.emu.add_user(STRANGER, "Nobody", "en")
        desk.emu.add_group(GROUP, "Owners group")
        ref = await file_home_repair(desk, A, text=f"{SECRET} tap drips", photos=0)
        case = await file_case(desk, A, text=f"{SECRET} the north gate guard was rude")
        events_before = await _events(desk, ref), await _events(desk, case)
        for user in (B, STRANGER, TECH):  # a message of theirs for a forged press to ride on
            await desk.send(user, "/help")
        b_mark = desk.emu.mark(B)
        for kind, user, payload in actions:
            mark = {u: desk.emu.mark(u) for u in (B, STRANGER, TECH)}
            if kind == "text":
                update = desk.emu.text_update(user, payload or " ")
            elif kind == "press":
                anchor = desk.emu.messages(user)[-1] if desk.emu.messages(user) else None
                if anchor is None:
                    continue
                update = desk.emu.callback_update(user, anchor, payload)
            elif kind == "photo":
                update = desk.emu.photo_update(user)
            elif kind == "edit":
                try:
                    update = desk.emu.text_update(user, payload or " ", edited=True)
                except AssertionError:  # nothing of theirs to edit yet
                    continue
            else:
                update = desk.emu.text_update(user, payload or " ", chat_id=GROUP)
            await desk.feed(update)
            for u, start in mark.items():
                new = [m.content for m in desk.emu.new_messages(u, start)]
                assert not any("something went wrong" in t for t in new), (kind, payload, new)
                assert len(new) <= 4, (kind, payload, new)
        b_texts = " ".join(m.content for m in desk.emu.new_messages(B, b_mark))
        assert SECRET not in b_texts and "1-2-301" not in b_texts and "13800000000" not in b_texts
        assert all(SECRET not in t for t in desk.emu.texts(STRANGER) + desk.emu.texts(GROUP))
        assert (await _events(desk, ref), await _events(desk, case)) == events_before
        async with desk.session() as s:
            owners = set((await s.execute(select(Ticket.owner_id))).scalars())
            events = (await s.execute(select(TicketEvent))).scalars().all()
            assert all(e.actor_id is not None for e in events)
        assert len(owners) <= 2


@settings(
    max_examples=int(os.environ.get("PROPDESK_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(action, min_size=1, max_size=25))
def test_random_and_adversarial_updates_break_nothing_and_leak_nothing(
    actions: list[tuple[str, int, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = _sqlite_url_with_schema(os.path.join(tmp, "h.db"))
        asyncio.run(_scenario(url, actions))


def test_every_complaint_action_forged_by_the_wrong_person_changes_nothing() -> None:
    # The random test above meets each of these only now and then; here each one is pressed
    # by the other owner, a stranger and a technician, in turn.
    actions = [("press", user, data) for data in FORGED for user in (B, STRANGER, TECH)]
    with tempfile.TemporaryDirectory() as tmp:
        url = _sqlite_url_with_schema(os.path.join(tmp, "h.db"))
        asyncio.run(_scenario(url, actions))
