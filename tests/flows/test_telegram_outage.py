"""A stretch of Telegram trouble (429, 5xx, timeouts, resets): the bot keeps serving, and
afterwards every notification arrives once, in order per chat."""

from datetime import timedelta

from sqlalchemy import select

from models.notification import Notification
from tests.flows.harness import Desk
from tests.flows.repair_steps import RECEPTIONIST, TECH, staffed

OWNERS = [1001, 1002, 1003, 1004]


async def test_owners_are_served_through_an_outage_and_nothing_is_lost_or_doubled(
    desk: Desk,
) -> None:
    await staffed(desk)
    for n, owner in enumerate(OWNERS):
        await desk.owner(owner, f"1-1-{101 + n}", lang="en")
    # Minutes of trouble: every kind of failure, many times, on every sending method.
    for _ in range(2):
        desk.emu.fail("sendMessage", status=429, retry_after=2, times=2)
        desk.emu.fail("sendMessage", status=502, times=2)
        desk.emu.fail("sendMessage", kind="timeout")
        desk.emu.fail("sendMessage", kind="reset")

    async def step(owner: int, text: str | None = None, button: str | None = None) -> None:
        # Like a person: wait until the question has arrived, then answer it.
        for _ in range(60):
            if button is None or any(
                button in b for m in desk.emu.messages(owner) for b, _ in desk.emu.buttons(m)
            ):
                break
            await desk.tick(timedelta(seconds=10))
        if button is not None:
            await desk.press(owner, button)
        else:
            await desk.send(owner, text or "")

    for n, owner in enumerate(OWNERS):
        await step(owner, "/repair")
        await step(owner, button="In my home")
        await step(owner, button="Water supply")
        for _ in range(10):
            if any("describe the problem" in t for t in desk.inbox(owner)):
                break
            await desk.tick(timedelta(seconds=10))
        await step(owner, f"Problem {n}: leak number {n * 37}")
        await step(owner, button="Skip photos")
        await step(owner, button="As soon as possible")
        await step(owner, button="Submit")
    for _ in range(20):  # the outage is over; time passes, the outbox drains
        await desk.tick(timedelta(minutes=1))
    refs = []
    for owner in OWNERS:
        filed = [t for t in desk.inbox(owner) if "Your repair request has been filed" in t]
        assert len(filed) == 1, desk.inbox(owner)
        refs.append(filed[0].rsplit(" ", 1)[1])

    async with desk.session() as s:
        rows = (await s.execute(select(Notification).order_by(Notification.id))).scalars().all()
    assert rows and all(r.status == "sent" for r in rows), [(r.id, r.status) for r in rows]
    new_repairs = [t for t in desk.inbox(RECEPTIONIST) if t.startswith("🆕 New repair")]
    assert [t.split("\n")[0] for t in new_repairs] == [f"🆕 New repair: {r}" for r in refs]
    assert len(set(refs)) == len(OWNERS)

    # Per-chat order survived the retries: dispatch after the outage works on the last one.
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert "Work order (维修单)" in desk.inbox(TECH)[-1]
