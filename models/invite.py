"""One-time binding codes: issued by the office, redeemed with ``/start CODE``.

Only a SHA-256 of the code is stored, so a copy of the database cannot be used to bind.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, DomainError, UTCDateTime
from models.people import Person, StaffRole
from models.property import Unit, bind, relation_to

# No 0/O, 1/I/L: codes are read aloud at the desk and typed from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class InviteCode(Base):
    __tablename__ = "invite_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))  # unit | staff
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    relation: Mapped[str | None] = mapped_column(String(10))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    staff: Mapped[Person | None] = relationship(foreign_keys=[person_id], lazy="joined")


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def hash_code(raw: str) -> str:
    return hashlib.sha256(normalize_code(raw).encode()).hexdigest()


def looks_like_code(raw: str) -> bool:
    code = normalize_code(raw)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


async def issue_unit_code(
    session: AsyncSession, unit: Unit, now: datetime, valid_days: int, relation: str = "owner"
) -> str:
    """A fresh code binding its redeemer to `unit`; returned in clear exactly once."""
    code = _new_code()
    session.add(
        InviteCode(
            code_hash=hash_code(code),
            purpose="unit",
            unit_id=unit.id,
            relation=relation,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    await session.flush()
    return code


async def issue_staff_code(
    session: AsyncSession, staff: Person, now: datetime, valid_days: int
) -> str:
    """A new one-time code for `staff`; any earlier unused code of theirs stops working, so a
    code handed out by mistake or lost cannot be used once a new one is issued."""
    await session.execute(
        update(InviteCode)
        .where(
            InviteCode.purpose == "staff",
            InviteCode.person_id == staff.id,
            InviteCode.used_at.is_(None),
            InviteCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    code = _new_code()
    session.add(
        InviteCode(
            code_hash=hash_code(code),
            purpose="staff",
            person_id=staff.id,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    await session.flush()
    return code


@dataclass
class Redeemed:
    purpose: str
    unit: Unit | None
    person: Person


async def redeem(session: AsyncSession, raw: str, person: Person, now: datetime) -> Redeemed:
    """Use a code for `person`. Raises DomainError code_unknown / code_used / code_expired.

    The conditional UPDATE makes a code single-use even when two people race for it.
    """
    invite = (
        await session.execute(select(InviteCode).where(InviteCode.code_hash == hash_code(raw)))
    ).scalar_one_or_none()
    if invite is None:
        raise DomainError("code_unknown")
    if invite.used_at is not None:
        raise DomainError("code_used")
    if invite.expires_at <= now:
        raise DomainError("code_expired")
    claimed = await session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=now, used_by_id=person.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError("code_used")
    if invite.purpose == "unit":
        assert invite.unit is not None
        await bind(session, person, invite.unit, invite.relation or "owner", now)
        return Redeemed("unit", invite.unit, person)
    staff = invite.staff
    assert staff is not None
    if staff.id != person.id:
        # The office created the staff record without a Telegram id: its roles move to the
        # person who redeemed the code, and the placeholder record goes away.
        if staff.telegram_id is not None:
            raise DomainError("code_used")
        held = {(r.role, r.building) for r in person.roles}
        for role in staff.roles:
            if (role.role, role.building) not in held:
                person.roles.append(StaffRole(role=role.role, building=role.building))
        person.name = staff.name
        person.phone = person.phone or staff.phone
        invite.person_id = person.id
        await session.flush()
        await session.delete(staff)
        await session.flush()
    return Redeemed("staff", None, person)


async def used_by(session: AsyncSession, raw: str, person: Person) -> bool:
    """True when `person` redeemed this code and still holds what it gave them (the unit's
    link, or a staff role): a former owner's old link is not a welcome back."""
    invite = (
        await session.execute(select(InviteCode).where(InviteCode.code_hash == hash_code(raw)))
    ).scalar_one_or_none()
    if invite is None or invite.used_by_id != person.id:
        return False
    if invite.purpose == "unit":
        return (
            invite.unit_id is not None
            and (await relation_to(session, person.id, invite.unit_id)) is not None
        )
    return person.is_staff
