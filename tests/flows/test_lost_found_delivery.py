"""The outbox can edit a message it sent earlier (used to mark an old notice expired): in
order after the original, "message is not modified" counts as done, an original that never
arrived makes the edit fail instead of looping, and ordinary sending is unchanged."""

from datetime import timedelta

from sqlalchemy import select

from models.notification import Notification, Status, enqueue, enqueue_chat, enqueue_edit, msg
from models.people import person_by_telegram
from tests.flows.harness import Desk

STAFF, GROUP = 3001, -100500


async def _row(desk: Desk, row_id: int) -> Notification:
    async with desk.session() as s:
        row = await s.get(Notification, row_id)
        assert row is not None
        return row


async def test_an_edit_changes_the_message_the_original_row_sent(desk: Desk) -> None:
    desk.emu.add_group(GROUP, "Notices", "channel")
    async with desk.rt.uow() as s:
        original = enqueue_chat(s, GROUP, msg("Notice of the week"), desk.clock.now())
        await s.flush()
        original_id = original.id
    await desk.deliver()
    sent = desk.emu.last(GROUP)
    async with desk.rt.uow() as s:
        row = await s.get(Notification, original_id)
        assert row is not None
        edit = enqueue_edit(s, row, msg("EXPIRED: notice of the week"), desk.clock.now())
        await s.flush()
        edit_id = edit.id
    await desk.deliver()
    assert desk.emu.texts(GROUP) == ["EXPIRED: notice of the week"]  # no new message
    assert sent.edits == ["Notice of the week"]
    done = await _row(desk, edit_id)
    assert (done.status, done.message_id) == (Status.SENT, sent.message_id)


async def test_an_edit_queued_with_its_original_waits_for_it_and_unchanged_text_is_done(
    desk: Desk,
) -> None:
    await desk.staff(STAFF, "receptionist", lang="en")
    async with desk.rt.uow() as s:
        person = await person_by_telegram(s, STAFF)
        assert person is not None
        original = enqueue(s, person, msg("Same text"), desk.clock.now())
        assert original is not None
        await s.flush()
        edit = enqueue_edit(s, original, msg("Same text"), desk.clock.now())
        await s.flush()
        ids = original.id, edit.id
    desk.emu.fail("sendMessage", status=502, times=1)
    await desk.deliver()
    assert desk.inbox(STAFF) == []
    assert (await _row(desk, ids[1])).status == Status.PENDING  # behind its original
    desk.clock.advance(timedelta(seconds=5))
    await desk.deliver()
    assert desk.inbox(STAFF) == ["Same text"]
    assert desk.emu.calls("editMessageText")[-1]["status"] == 400  # "message is not modified"
    assert [(await _row(desk, i)).status for i in ids] == [Status.SENT, Status.SENT]


async def test_an_edit_of_a_message_that_was_never_delivered_fails_once(desk: Desk) -> None:
    await desk.staff(STAFF, "receptionist", lang="en", started=False)
    async with desk.rt.uow() as s:
        person = await person_by_telegram(s, STAFF)
        assert person is not None
        original = enqueue(s, person, msg("Hello"), desk.clock.now())
        assert original is not None
        await s.flush()
        edit = enqueue_edit(s, original, msg("Hello again"), desk.clock.now())
        await s.flush()
        ids = original.id, edit.id
    await desk.deliver()
    rows = [await _row(desk, i) for i in ids]
    assert [r.status for r in rows] == [Status.UNDELIVERABLE, Status.FAILED]
    assert rows[1].attempts == 0 and desk.emu.calls("editMessageText") == []
    async with desk.session() as s:
        pending = (
            await s.execute(select(Notification).where(Notification.status == Status.PENDING))
        ).scalars()
        assert all(r.edit_of_id is None for r in pending)
