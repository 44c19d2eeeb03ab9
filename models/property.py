"""Buildings, units (房号) and the binding of owners and tenants to units."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, DomainError, UTCDateTime
from models.people import LINKS_CHANGED, Person

if TYPE_CHECKING:
    from models.ticket import Ticket

UNIT_CODE = re.compile(r"^[0-9A-Za-z]{1,10}(-[0-9A-Za-z]{1,10}){1,3}$")
# How someone is linked to a unit. "owner" is the owner in the office's register (`units
# import`); "co_owner" another owner (a spouse, a joint buyer) with the same rights, who goes
# by their own name and phone; "tenant" a tenant or family member.
OWNER_RELATIONS = ("owner", "co_owner")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # ([0-9], not \d: any script's digits would match)
LANDLINE = re.compile(r"^0[0-9]{2,3}[0-9]{7,8}$")


class Building(Base):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)


class Unit(Base):
    """A dwelling, e.g. ``1-2-301`` (building-unit-room)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    owner_name: Mapped[str | None] = mapped_column(String(100))
    owner_phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    building: Mapped[Building] = relationship(lazy="joined")


class UnitBinding(Base):
    """A person may act for a unit: the result of redeeming an invite code."""

    __tablename__ = "unit_binding"
    __table_args__ = (UniqueConstraint("person_id", "unit_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10))  # owner | tenant
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")
    person: Mapped[Person] = relationship(lazy="joined")


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    return (
        await session.execute(select(Unit).where(Unit.code == code.strip().upper()))
    ).scalar_one_or_none()


async def units_of(session: AsyncSession, person: Person) -> list[Unit]:
    """The units a person is bound to, in code order."""
    rows = await session.execute(
        select(Unit)
        .join(UnitBinding, UnitBinding.unit_id == Unit.id)
        .where(UnitBinding.person_id == person.id)
        .order_by(Unit.code)
    )
    return list(rows.scalars().all())


async def is_linked(session: AsyncSession, person: Person) -> bool:
    """Whether the person is bound to any unit (cheaper than `units_of` when that is all)."""
    return bool(await session.scalar(select(exists().where(UnitBinding.person_id == person.id))))


async def bind(
    session: AsyncSession, person: Person, unit: Unit, relation: str, now: datetime
) -> UnitBinding:
    existing = (
        await session.execute(
            select(UnitBinding).where(
                UnitBinding.person_id == person.id, UnitBinding.unit_id == unit.id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        if relation in OWNER_RELATIONS and existing.relation not in OWNER_RELATIONS:
            # A tenant who bought the flat, given the office's owner code: linked as an owner
            # from now on, after any owner linked before (see `is_registered_owner`).
            await session.delete(existing)
            await session.flush()
        else:
            return existing
    session.info[LINKS_CHANGED] = True
    binding = UnitBinding(person_id=person.id, unit_id=unit.id, relation=relation, created_at=now)
    session.add(binding)
    await session.flush()
    return binding


# --- directory import -------------------------------------------------------------------------

UNIT_COLUMNS = ("unit", "building", "area_m2", "owner_name", "owner_phone")


@dataclass
class UnitRow:
    line: int
    unit: str
    building: str
    area_m2: Decimal | None
    owner_name: str | None
    owner_phone: str | None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Units whose owner the file changes while someone is still linked to them through the
    # bot: if the flat changed hands, the office ends those links (`propdesk units unbind`).
    new_owner_still_linked: list[tuple[str, int]] = field(default_factory=list)


async def contact_for(
    session: AsyncSession, person: Person, unit: Unit | None
) -> tuple[str, str | None]:
    """The name and phone the office goes by for someone acting for a unit. The registered
    owner is the owner in the directory (the name on their ID card, the phone on file); a
    co-owner, a tenant or anyone else is themselves: the register's name would not match the
    ID they show at the desk (seed 物品拾遗 4.4), nor its phone reach them."""
    if unit is not None and await is_registered_owner(session, person.id, unit.id):
        return unit.owner_name or person.name, unit.owner_phone or person.phone
    return person.name, person.phone


@dataclass(frozen=True)
class Reporter:
    """Someone acting for a unit who is not its registered owner: a tenant, a family member,
    a former owner still in the bot. The one at home, and the one the office calls back."""

    name: str
    phone: str | None


async def reporter_for(
    session: AsyncSession, person: Person | None, unit: Unit | None
) -> Reporter | None:
    """Who filed a case for `unit`, when that is not its registered owner; None otherwise."""
    if person is None or unit is None:
        return None
    if await is_registered_owner(session, person.id, unit.id):
        return None
    return Reporter(person.name, person.phone)


async def is_registered_owner(session: AsyncSession, person_id: int, unit_id: int) -> bool:
    """Whether the person is the owner in the office's register (`units import`): the first
    linked as "owner". A co-owner (linked with a co-owner code, or as "owner" after the first)
    has the same rights but goes by their own name and phone: the register's would not match
    the ID they show at the desk, nor reach them."""
    return await registered_owner_id(session, unit_id) == person_id


async def registered_owner_id(session: AsyncSession, unit_id: int) -> int | None:
    """The person taken for the register's owner of the unit (see `is_registered_owner`)."""
    return await session.scalar(
        select(UnitBinding.person_id)
        .where(UnitBinding.unit_id == unit_id, UnitBinding.relation == "owner")
        .order_by(UnitBinding.id)
        .limit(1)
    )


async def own_case(
    session: AsyncSession, person: Person, ticket: Ticket, *, owners_only: bool = False
) -> bool:
    """Whether a case is about `person`'s own home: they filed it, or are linked to its unit
    (`owners_only`: as one of its owners). Staff leave such a case's sign-off to a colleague."""
    if ticket.owner_id == person.id:
        return True
    if ticket.unit_id is None:
        return False
    relation = await relation_to(session, person.id, ticket.unit_id)
    return relation in OWNER_RELATIONS if owners_only else relation is not None


async def relation_to(session: AsyncSession, person_id: int, unit_id: int) -> str | None:
    """owner, tenant, or None when the person is not (or no longer) linked to the unit."""
    return await session.scalar(
        select(UnitBinding.relation).where(
            UnitBinding.person_id == person_id, UnitBinding.unit_id == unit_id
        )
    )


def normalize_phone(raw: str) -> str | None:
    """Digits of a mainland mobile or landline number, or None when it is not one."""
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw))  # full-width too
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    return None


def validate_unit_row(line: int, raw: dict[str, str]) -> tuple[UnitRow | None, list[str]]:
    """Check one CSV row; returns the row or the reasons it is refused."""
    reasons: list[str] = []
    unit = (raw.get("unit") or "").strip().upper()
    building = (raw.get("building") or "").strip().upper()
    if not unit:
        reasons.append("unit is empty")
    elif not UNIT_CODE.match(unit):
        reasons.append(f"unit {unit!r} is not like 1-2-301 (building-unit-room)")
    if not building:
        reasons.append("building is empty")
    elif unit and UNIT_CODE.match(unit) and unit.split("-")[0] != building:
        reasons.append(f"unit {unit!r} does not belong to building {building!r}")
    area: Decimal | None = None
    area_text = (raw.get("area_m2") or "").strip()
    if area_text:
        try:
            area = Decimal(area_text)
        except InvalidOperation:
            reasons.append(f"area_m2 {area_text!r} is not a number")
        else:
            if not area.is_finite() or not (Decimal(0) < area < Decimal(100000)):
                reasons.append(f"area_m2 {area_text!r} is out of range")
                area = None
            else:
                area = area.quantize(Decimal("0.01"))
    name = (raw.get("owner_name") or "").strip() or None
    if name is not None and len(name) > 100:
        reasons.append("owner_name is longer than 100 characters")
    phone_text = (raw.get("owner_phone") or "").strip()
    phone: str | None = None
    if phone_text:
        phone = normalize_phone(phone_text)
        if phone is None:
            reasons.append(f"owner_phone {phone_text!r} is not a valid phone number")
    if reasons:
        return None, reasons
    return UnitRow(line, unit, building, area, name, phone), []


async def import_units(session: AsyncSession, rows: list[UnitRow], now: datetime) -> ImportReport:
    """Create or update units and buildings from validated rows (caller commits)."""
    report = ImportReport()
    buildings = {b.code: b for b in (await session.execute(select(Building))).scalars()}
    existing = {
        u.code: u
        for u in (
            await session.execute(select(Unit).where(Unit.code.in_([r.unit for r in rows])))
        ).scalars()
    }
    for row in rows:
        building = buildings.get(row.building)
        if building is None:
            building = Building(code=row.building)
            session.add(building)
            await session.flush()
            buildings[row.building] = building
        unit = existing.get(row.unit)
        if unit is None:
            unit = Unit(code=row.unit, building_id=building.id, created_at=now, updated_at=now)
            session.add(unit)
            existing[row.unit] = unit
            report.created += 1
        else:
            report.updated += 1
            if unit.owner_name and row.owner_name and unit.owner_name != row.owner_name:
                linked = await session.scalar(
                    select(func.count())
                    .select_from(UnitBinding)
                    .where(UnitBinding.unit_id == unit.id)
                )
                if linked:
                    report.new_owner_still_linked.append((unit.code, int(linked)))
        unit.building_id = building.id
        unit.area_m2 = row.area_m2
        unit.owner_name = row.owner_name
        unit.owner_phone = row.owner_phone
        unit.updated_at = now
    await session.flush()
    return report


def require_unit(unit: Unit | None, code: str) -> Unit:
    if unit is None:
        raise DomainError("unit_unknown", unit=code)
    return unit
