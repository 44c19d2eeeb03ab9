"""Who holds a role, asked many times in one transaction (a sweep's reminders), is looked up
once; a change of staff in the same session or a new transaction is seen at once."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models.people import Role, add_staff, staff_with_role
from tests.conftest import sql_log


async def test_role_holders_are_looked_up_once_per_transaction_and_follow_changes(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        await add_staff(s, name="Wang", roles=["receptionist"], buildings=[], telegram_id=2001,
                        now=now)  # fmt: skip
    statements = sql_log(sessions)
    async with sessions() as s, s.begin():
        first = await staff_with_role(s, Role.RECEPTIONIST)
        looked_up = len(statements)
        # one statement for the people and their roles (after the transaction's BEGIN, if any)
        assert [q for q in statements if q.lstrip().upper().startswith("SELECT")] == statements[-1:]
        assert first[0].role_names() == {Role.RECEPTIONIST}  # roles loaded: no query needed
        assert len(statements) == looked_up
        for _ in range(5):
            assert [p.telegram_id for p in await staff_with_role(s, Role.RECEPTIONIST)] == [2001]
        assert len(statements) == looked_up  # asked again: no statement
        assert [p.name for p in first] == ["Wang"]
        # A colleague added in the same transaction is among them at once.
        await add_staff(s, name="Li", roles=["receptionist"], buildings=[], telegram_id=2002,
                        now=now)  # fmt: skip
        assert [p.telegram_id for p in await staff_with_role(s, Role.RECEPTIONIST)] == [
            2001,
            2002,
        ]
    # Another session adds one; a new transaction of the first kind sees it.
    async with sessions() as other, other.begin():
        await add_staff(other, name="Zhao", roles=["receptionist"], buildings=[],
                        telegram_id=2003, now=now)  # fmt: skip
    async with sessions() as s:
        async with s.begin():
            assert len(await staff_with_role(s, Role.RECEPTIONIST)) == 3
        async with sessions() as other, other.begin():
            await add_staff(other, name="Qian", roles=["receptionist"], buildings=[],
                            telegram_id=2004, now=now)  # fmt: skip
        async with s.begin():
            assert len(await staff_with_role(s, Role.RECEPTIONIST)) == 4
