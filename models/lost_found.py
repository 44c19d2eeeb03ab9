"""Lost and found (物品拾遗, seed ch.6 §4): the tables and the states of found items and claims.

A found item is an ``F-`` ticket with a :class:`FoundItem` row (the 拾遗物品登记表 line):
to_desk (registered by the staff member who found it, on its way to the front desk: 4.1 上交)
→ held (received and kept by the desk's receptionist: 4.3 保管; a receptionist's own
registration starts here) → for_disposal (reported after three months, still claimable) →
returned | disposed. An item on its way to the desk can be claimed, but the ID check and the
handover wait until the desk has it. A claim
is an ``L-`` ticket with a :class:`LostClaim` row: claimed → id_checked (original ID seen at
the desk, number kept masked) → handed_over (the claimant signed: in the bot or on paper);
or claim_rejected, withdrawn, lapsed (the item went to someone else or was disposed of).
Several claims may wait on one item; only one can be verified. Custody (front desk or
administration) is separate from the state: an item with administration can still be claimed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import N_, Base, BigId, JSONType, UTCDateTime


class ItemSt(StrEnum):
    TO_DESK = "to_desk"
    HELD = "held"
    FOR_DISPOSAL = "for_disposal"
    RETURNED = "returned"
    DISPOSED = "disposed"


class ClaimSt(StrEnum):
    CLAIMED = "claimed"
    ID_CHECKED = "id_checked"
    HANDED_OVER = "handed_over"
    REJECTED = "claim_rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"


KEPT = {ItemSt.HELD, ItemSt.FOR_DISPOSAL}  # in the office's keeping (desk or administration)
CLAIMABLE = KEPT | {ItemSt.TO_DESK}
OPEN_CLAIM = {ClaimSt.CLAIMED, ClaimSt.ID_CHECKED}
DESK, ADMIN = "desk", "admin"  # custody
BOT, PAPER = "bot", "paper"  # how the claimant signed for the item

STATE_NAMES = {
    ItemSt.TO_DESK: N_("handed in, waiting to be received at the front desk"),
    ItemSt.HELD: N_("waiting for its owner"),
    ItemSt.FOR_DISPOSAL: N_("reported for disposal"),
    ItemSt.RETURNED: N_("returned to its owner"),
    ItemSt.DISPOSED: N_("disposed of"),
    ClaimSt.CLAIMED: N_("waiting for the claimant at the front desk"),
    ClaimSt.ID_CHECKED: N_("ID checked, waiting for the claimant's signature"),
    ClaimSt.HANDED_OVER: N_("item handed over"),
    ClaimSt.REJECTED: N_("not accepted"),
    ClaimSt.WITHDRAWN: N_("withdrawn"),
    ClaimSt.LAPSED: N_("closed: the item is no longer available"),
}
ACTION_NAMES = {
    "lf_registered": N_("found item registered"),
    "lf_received": N_("received at the front desk"),
    "lf_claim_filed": N_("claim filed"),
    "lf_id_checked": N_("original ID checked at the desk"),
    "lf_signed_bot": N_("receipt signed in the bot"),
    "lf_signed_paper": N_("receipt signed on paper"),
    "lf_returned": N_("returned to its owner"),
    "lf_claim_rejected": N_("claim not accepted"),
    "lf_claim_withdrawn": N_("claim withdrawn"),
    "lf_claim_lapsed": N_("claim closed: item no longer available"),
    "lf_to_admin": N_("handed to administration for safekeeping"),
    "lf_noticed": N_("listed in the found items notice"),
    "lf_disposal_reported": N_("reported to the company for disposal"),
    "lf_disposed": N_("disposal outcome recorded"),
}
CLAIM_REMINDER = "lf.claim"
RECEIPT_REMINDER = "lf.receipt"  # handed in, not yet received at the desk
DEADLINES = {"lf.valuable", "lf.disposal", CLAIM_REMINDER, RECEIPT_REMINDER}
WEEKLY_NOTICE = "lf.weekly_notice"
MONTH_END = "lf.month_end"


class FoundItem(Base):
    """A found item as registered (4.2: 拾遗地点、拾遗时间、物品名称、拾遗人 …)."""

    __tablename__ = "found_item"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))  # general name: the one thing owners see
    description: Mapped[str] = mapped_column(Text)  # distinguishing details: staff only (4.4)
    category: Mapped[str] = mapped_column(String(32), index=True)
    place: Mapped[str] = mapped_column(String(200))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finder_name: Mapped[str] = mapped_column(String(100))
    finder_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    valuable: Mapped[bool] = mapped_column(Boolean, default=False)
    photos: Mapped[list[str]] = mapped_column(JSONType, default=list)
    custody: Mapped[str] = mapped_column(String(10), default=DESK)
    custody_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposal_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposal_outcome: Mapped[str | None] = mapped_column(Text)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_claim_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))


class LostClaim(Base):
    """A claim on a found item (领用人、有效证件): the claimant's own description, and at the
    desk the document seen — its number masked, the full number is never stored."""

    __tablename__ = "lost_claim"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    claimant_name: Mapped[str] = mapped_column(String(100))
    item_name: Mapped[str] = mapped_column(String(200))  # what the claimant calls it
    features: Mapped[str] = mapped_column(Text)  # what the claimant says distinguishes it
    document: Mapped[str | None] = mapped_column(String(10))
    id_masked: Mapped[str | None] = mapped_column(String(32))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt: Mapped[str | None] = mapped_column(String(10))  # bot | paper
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_reason: Mapped[str | None] = mapped_column(Text)


class LostReport(Base):
    """An owner's report of something they lost; matching found items are pointed out."""

    __tablename__ = "lost_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified: Mapped[list[int]] = mapped_column(JSONType, default=list)  # item ticket ids


class FoundNotice(Base):
    """One weekly 招领启事 (4.5): what it listed, the messages that carry it, its expiry."""

    __tablename__ = "found_notice"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items: Mapped[list[int]] = mapped_column(JSONType, default=list)
    notifications: Mapped[list[int]] = mapped_column(JSONType, default=list)
