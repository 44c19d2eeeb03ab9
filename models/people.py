"""People (Telegram users), their staff roles and building scopes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import chain
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    String,
    UniqueConstraint,
    column,
    event,
    exists,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    Mapped,
    Session,
    SessionTransaction,
    joinedload,
    mapped_column,
    query_expression,
    relationship,
    with_expression,
)

from models.base import N_, Base, BigId, DomainError, UTCDateTime, one_line

SEEN_RESOLUTION = timedelta(minutes=5)


class Role(StrEnum):
    """Staff roles as the CLI names them (SPEC §1)."""

    RECEPTIONIST = "receptionist"
    SERVICE = "service"
    TECHNICIAN = "technician"
    TEAM_LEAD = "team_lead"
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    EXECUTIVE = "executive"
    GUARD = "guard"
    ADMIN = "admin"


ROLE_NAMES: dict[str, str] = {
    Role.RECEPTIONIST: N_("receptionist"),
    Role.SERVICE: N_("service officer"),
    Role.TECHNICIAN: N_("technician"),
    Role.TEAM_LEAD: N_("team lead"),
    Role.CASHIER: N_("cashier"),
    Role.SUPERVISOR: N_("supervisor"),
    Role.EXECUTIVE: N_("executive"),
    Role.GUARD: N_("guard"),
    Role.ADMIN: N_("administration"),
}


class Person(Base):
    """Anyone the bot knows: an owner, a tenant or a staff member."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when Telegram refused to deliver (403); cleared when the person writes to the bot.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A fingerprint of the command menu last published to this person's chat (None: none
    # yet). Roles given or taken with the CLI, a unit unlinked by the office, another
    # language: the menu is published again at their next update when it no longer matches.
    menu: Mapped[str | None] = mapped_column(String(64))
    # Whether they were linked to a unit when loaded for an update, in the same statement
    # (None: not loaded that way). See `linked_changed` for a change since.
    linked_at_load: Mapped[bool | None] = query_expression()

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    def role_names(self) -> set[Role]:
        return {Role(r.role) for r in self.roles}

    def has_role(self, role: Role, building: str | None = None) -> bool:
        """True when the person holds `role` for `building` (an unscoped role covers all)."""
        return any(
            r.role == role and (r.building is None or building is None or r.building == building)
            for r in self.roles
        )

    def role_buildings(self, role: Role) -> set[str] | None:
        """The buildings `role` covers for this person; None when it covers every building."""
        scopes = [r.building for r in self.roles if r.role == role]
        if any(building is None for building in scopes):
            return None
        return {building for building in scopes if building is not None}


class StaffRole(Base):
    """One role of a staff member, optionally limited to one building."""

    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("person_id", "role", "building"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    building: Mapped[str | None] = mapped_column(String(20))

    person: Mapped[Person] = relationship(back_populates="roles")


# unit_binding as the person query needs it (models.property imports this module)
_BINDING = table("unit_binding", column("person_id"))
LINKS_CHANGED = "unit_links_changed"  # session.info key: a binding was added or removed


def linked_changed(session: AsyncSession) -> bool:
    """Whether this unit of work added or removed a unit link (`Person.linked_at_load` may
    then be out of date)."""
    return bool(session.info.get(LINKS_CHANGED))


async def person_by_telegram(session: AsyncSession, telegram_id: int) -> Person | None:
    # Runs for every update: the roles come in the same statement (a join) rather than in a
    # second one, as Person.roles' default loading would do, and so does whether they are
    # linked to a unit (their command menu depends on it).
    linked = exists().where(_BINDING.c.person_id == Person.id)
    return (
        (
            await session.execute(
                select(Person)
                .options(joinedload(Person.roles), with_expression(Person.linked_at_load, linked))
                .where(Person.telegram_id == telegram_id)
            )
        )
        .unique()
        .scalar_one_or_none()
    )


async def touch_person(
    session: AsyncSession, telegram_id: int, name: str, language_code: str | None, now: datetime
) -> Person:
    """The person behind an update, created on first contact; marks them reachable again."""
    person = await person_by_telegram(session, telegram_id)
    if person is None:
        person = Person(
            telegram_id=telegram_id,
            name=(one_line(name or "") or str(telegram_id))[:100],
            locale=_locale_from_telegram(language_code),
            created_at=now,
        )
        session.add(person)
        await session.flush()
        await session.refresh(person, ["roles"])
    if person.locale is None:
        person.locale = _locale_from_telegram(language_code)
    # Written at most every few minutes: a write per message costs more than it tells.
    if person.last_seen_at is None or now - person.last_seen_at > SEEN_RESOLUTION:
        person.last_seen_at = now
    if person.unreachable_at is not None:
        person.unreachable_at = None

    await session.flush()
    return person


def _locale_from_telegram(language_code: str | None) -> str | None:
    if not language_code:
        return None
    code = language_code.lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return None


async def add_staff(
    session: AsyncSession,
    *,
    name: str,
    roles: Sequence[str],
    buildings: Sequence[str],
    telegram_id: int | None,
    now: datetime,
) -> Person:
    """Create or extend a staff member; roles × buildings (none = all buildings)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("staff_name_invalid")
    bad = [r for r in roles if r not in {x.value for x in Role}]
    if bad or not roles:
        raise DomainError("staff_role_unknown", role=", ".join(bad) or "-")
    if telegram_id is not None:
        person = await person_by_telegram(session, telegram_id)
    else:
        # Added again before they sent /start (the code got lost, or one more role): the same
        # record, not a second one waiting under the same name.
        person = await unclaimed_staff(session, name)
    if person is None:
        person = Person(telegram_id=telegram_id, name=name, created_at=now)
        session.add(person)
        await session.flush()
        await session.refresh(person, ["roles"])
    else:
        person.name = name
    scopes: list[str | None] = list(buildings) or [None]
    existing = {(r.role, r.building) for r in person.roles}
    for role in roles:
        for building in scopes:
            if (role, building) not in existing:
                person.roles.append(StaffRole(role=role, building=building))
                existing.add((role, building))
    await session.flush()
    return person


async def unclaimed_staff(session: AsyncSession, name: str) -> Person | None:
    """A staff record added without a Telegram id, under `name`, nobody has claimed yet."""
    return (
        (
            await session.execute(
                select(Person)
                .options(joinedload(Person.roles))
                .join(StaffRole, StaffRole.person_id == Person.id)
                .where(Person.telegram_id.is_(None), Person.name == name.strip())
                .order_by(Person.id)
                .limit(1)
            )
        )
        .unique()
        .scalar_one_or_none()
    )


# Who holds a role is asked again and again within one transaction (the sweep's batch of
# reminders asks for the receptionists and the technicians of every ticket), and it does not
# change there unless the same session changes a person or a role: the answer is kept in the
# session until then, or until its transaction (or a savepoint) ends.
_STAFF_CACHE = "propdesk.staff_with_role"


@event.listens_for(Session, "before_flush")
def _staff_may_change(session: Session, *_: Any) -> None:
    if _STAFF_CACHE in session.info and any(
        isinstance(obj, (Person, StaffRole))
        for obj in chain(session.new, session.dirty, session.deleted)
    ):
        del session.info[_STAFF_CACHE]


@event.listens_for(Session, "after_transaction_end")
def _staff_forgotten(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_STAFF_CACHE, None)


async def staff_with_role(
    session: AsyncSession, role: Role, building: str | None = None
) -> list[Person]:
    """Bound staff holding `role` (for `building` when given), oldest first."""
    cache: dict[tuple[str, str | None], list[Person]] = session.info.setdefault(_STAFF_CACHE, {})
    key = (role.value, building)
    if key not in cache:
        cache[key] = await _staff_with_role(session, role, building)
    return list(cache[key])


async def _staff_with_role(session: AsyncSession, role: Role, building: str | None) -> list[Person]:
    holds = select(StaffRole.person_id).where(StaffRole.role == role.value)
    if building is not None:
        holds = holds.where((StaffRole.building.is_(None)) | (StaffRole.building == building))
    # One statement: the people and all their roles (joined), not the people and then a
    # second query for their roles.
    query = (
        select(Person)
        .where(Person.id.in_(holds), Person.telegram_id.is_not(None))
        .options(joinedload(Person.roles))
        .order_by(Person.id)
    )
    return list((await session.execute(query)).unique().scalars().all())


async def remember_menu(session: AsyncSession, person_id: int, fingerprint: str) -> None:
    """Telegram took the menu with `fingerprint` for this person's chat."""
    person = await session.get(Person, person_id)
    if person is not None:
        person.menu = fingerprint
