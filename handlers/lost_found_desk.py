"""Lost and found at the front desk: checking a claimant's original ID (4.4 核准无误后登记证件
号码), the paper signature, a walk-in claimant without Telegram, refusing a claim, and the
disposal outcome. Callback data ``lf:<action>:<id>``; every press is re-checked.

An ID number is validated and masked the moment it is read: only the masked form reaches the
form's draft, the database and the replies, and the message that carried the number is
deleted from the receptionist's chat.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError

from handlers import forms
from handlers.base import Ctx, TgCallback, desk
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.lost_found_staff import attempt, refused
from handlers.text import note_form, take_text
from models import lost_found_flow as flow
from models.base import N_, DomainError
from models.lost_found import PAPER, ClaimSt, ItemSt
from models.lost_found_custody import may_dispose
from models.lost_found_notices import data
from models.lost_found_rules import DOCUMENTS, ID_CARD, IdDocument, check_document
from models.notification import Msg, msg
from models.people import Role

log = logging.getLogger(__name__)
DOC_NAMES = {ID_CARD: N_("Resident ID card (身份证)"), "other": N_("Passport or travel permit")}


def _forget(ctx: Ctx) -> None:
    """Delete the message that carried an ID number from the chat, once the update is done."""
    message = ctx.update.effective_message
    if message is None:
        return
    bot, chat_id, message_id = ctx.context.bot, message.chat_id, message.message_id

    async def delete() -> None:
        try:
            await bot.delete_message(chat_id, message_id)
        except TelegramError as exc:  # never log the message itself
            log.warning("could not delete an ID number message: %s", type(exc).__name__)

    ctx.later(delete)


def document_steps(form: str, after: str) -> dict[str, Step]:
    """Which document was shown, then its number (validated, then kept masked only)."""

    async def ask_doc(ctx: Ctx, d: dict[str, Any]) -> Msg:
        out = msg(
            N_(
                "{ref}: check the claimant's original document and that their description "
                "matches the item. Which document did they show?"
            ),
            ref=d.get("ref", ""),
        )
        return out.button_row(*[(DOC_NAMES[k], choice(form, "doc", k)) for k in DOCUMENTS])

    async def take_doc(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
        if answer.choice not in DOCUMENTS:
            raise Invalid(N_("Please choose one of the buttons."))
        d["doc"] = answer.choice
        return "number"

    async def ask_number(ctx: Ctx, d: dict[str, Any]) -> Msg:
        return msg(
            N_(
                "Type the document number. It is kept masked (like 4101**********1234) and never "
                "shown in full again; your message with it is deleted from this chat."
            )
        )

    async def take_number(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
        _forget(ctx)
        if answer.text is None:
            raise Invalid(N_("Please type the document number."))
        try:
            document = check_document(
                d["doc"], answer.text, ctx.rt.env.calendar.local_date(ctx.now)
            )
        except DomainError as error:
            raise refused(error) from None
        d["masked"] = document.masked
        return after

    return {"doc": Step(ask_doc, take_doc), "number": Step(ask_number, take_number)}


def _document(d: dict[str, Any]) -> IdDocument:
    return IdDocument(d["doc"], d["masked"])


# --- an item handed in by the staff member who found it (4.1 上交) -----------------------------


@desk
async def received_at_desk(ctx: Ctx) -> None:
    """A receptionist confirms that an item handed in is now at the front desk."""
    ticket, item = await flow.receive(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.clear_buttons = True
    ctx.reply(
        N_("📥 {ref} is recorded as received at the front desk, by you: the desk keeps it now."),
        ref=ticket.ref,
    )
    if item.valuable:
        ctx.reply(
            N_(
                "💰 Valuable: if nobody claims it by {time}, it goes into the safekeeping of "
                "administration."
            ),
            time=ctx.rt.env.calendar.end_of_business_day(ctx.now),
        )


# --- a claim made in the bot --------------------------------------------------------------------


async def _checked(ctx: Ctx, d: dict[str, Any]) -> None:
    ticket = await attempt(
        ctx,
        lambda: flow.check_id(ctx.session, d["cid"], ctx.person, _document(d), ctx.now, ctx.rt.env),
    )
    if ticket is None:
        return
    out = msg(
        N_(
            "ID recorded as {id} on {ref}. The claimant has been asked to sign for the item in "
            "the bot. If they sign the paper register instead, press Paper signature."
        ),
        id=d["masked"],
        ref=ticket.ref,
    )
    ctx.reply(out.button_row((N_("Paper signature"), data("pap", ticket.id))))


VERIFY_FORM = forms.register(
    Form("lf_ver", N_("ID check"), "doc", document_steps("lf_ver", DONE), _checked)
)


@desk
async def verify(ctx: Ctx) -> None:
    """A receptionist checks the claimant's original ID at the desk."""
    ticket = await flow.check_claim(ctx.session, ctx.target_id, ctx.person, "ver")
    ctx.answer()
    await forms.begin(ctx, VERIFY_FORM, {"cid": ticket.id, "ref": ticket.ref})


@desk
async def paper(ctx: Ctx) -> None:
    """A receptionist records that the claimant signed the paper register instead."""
    ticket, item_ticket = await flow.sign(ctx.session, ctx.target_id, ctx.person, PAPER, ctx.now)
    ctx.clear_buttons = True
    ctx.reply(
        N_("{item} is recorded as returned on {ref} (signed on paper)."),
        item=item_ticket.ref,
        ref=ticket.ref,
    )


async def _rejected(ctx: Ctx, d: dict[str, Any], reason: str) -> None:
    ticket = await attempt(
        ctx, lambda: flow.reject(ctx.session, d["cid"], ctx.person, reason, ctx.now)
    )
    if ticket is not None:
        ctx.reply(N_("{ref} was not accepted; the claimant has been told why."), ref=ticket.ref)


REJECT_FORM = note_form(
    "lf_rej", N_("Why is {ref} not accepted? The claimant will read this."), _rejected
)


@desk
async def reject(ctx: Ctx) -> None:
    """A receptionist refuses a claim (description or ID does not match)."""
    ticket = await flow.check_claim(ctx.session, ctx.target_id, ctx.person, "rej")
    ctx.answer()
    await forms.begin(ctx, REJECT_FORM, {"cid": ticket.id, "ref": ticket.ref})


# --- a walk-in claimant without Telegram -------------------------------------------------------

WALK = "lf_walk"


async def _ask_claimant(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return msg(
        N_("Claim at the desk for {ref}, for someone without Telegram. Their full name?"),
        ref=d["ref"],
    )


async def _take_claimant(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["claimant"] = take_text(answer, 2, 60)
    return "said"


async def _ask_said(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return msg(N_("How did they describe the item — its name and its features, in their words?"))


async def _take_said(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["said"] = take_text(answer, 2, 1000)
    return "doc"


async def _ask_handover(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(
        N_("Hand {ref} over to {name} (ID {id})?"), ref=d["ref"], name=d["claimant"], id=d["masked"]
    )
    out.add(N_("They must sign the paper register (拾遗物品登记表) first."))
    return out.button_row(
        (N_("Signed on paper: hand over"), choice(WALK, "handover", "yes")),
        (N_("Cancel"), choice(WALK, "handover", "no")),
    )


async def _take_handover(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("yes", "no"):
        raise Invalid(N_("Please choose one of the buttons."))
    d["declined"] = answer.choice == "no"
    return DONE


async def _walked(ctx: Ctx, d: dict[str, Any]) -> None:
    if d.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    done = await attempt(
        ctx,
        lambda: flow.desk_claim(
            ctx.session,
            d["iid"],
            ctx.person,
            d["claimant"],
            d["said"],
            _document(d),
            ctx.now,
            ctx.rt.env,
        ),
    )
    if done is not None:
        ctx.reply(
            N_("✅ {item} returned to {name} on {ref} (ID {id}, signed on paper)."),
            item=done[1].ref,
            name=d["claimant"],
            ref=done[0].ref,
            id=d["masked"],
        )


WALK_FORM = forms.register(
    Form(
        WALK,
        N_("claim at the desk"),
        "claimant",
        {
            "claimant": Step(_ask_claimant, _take_claimant),
            "said": Step(_ask_said, _take_said),
            **document_steps(WALK, "handover"),
            "handover": Step(_ask_handover, _take_handover),
        },
        _walked,
    )
)


@desk
async def walk_in(ctx: Ctx) -> None:
    """A receptionist hands an item over to a claimant who has no Telegram."""
    ticket = await flow.check_item(ctx.session, ctx.target_id, ctx.person, "walk")
    ctx.answer()
    await forms.begin(ctx, WALK_FORM, {"iid": ticket.id, "ref": ticket.ref})


# --- disposal (4.7) -------------------------------------------------------------------------------


async def _disposed(ctx: Ctx, d: dict[str, Any], outcome: str) -> None:
    ticket = await attempt(
        ctx, lambda: flow.dispose(ctx.session, d["iid"], ctx.person, outcome, ctx.now)
    )
    if ticket is not None:
        ctx.reply(N_("Disposal of {ref} recorded: {outcome}"), ref=ticket.ref, outcome=outcome)


DISPOSAL_FORM = note_form(
    "lf_dsp",
    N_("How was {ref} disposed of, as the company decided (e.g. donated, handed to the police)?"),
    _disposed,
)


@desk
async def disposal(ctx: Ctx) -> None:
    """Administration (or a supervisor) records the disposal outcome."""
    ticket = await flow.check_item(ctx.session, ctx.target_id, ctx.person, "dsp")
    ctx.answer()
    await forms.begin(ctx, DISPOSAL_FORM, {"iid": ticket.id, "ref": ticket.ref})


async def item_buttons(ctx: Ctx, ticket_id: int) -> list[tuple[str, str]]:
    """Actions on a found item's /ticket card."""
    ticket, _ = await flow.load_item(ctx.session, ticket_id)
    out: list[tuple[str, str]] = []
    if ticket.state == ItemSt.TO_DESK and ctx.person.has_role(Role.RECEPTIONIST):
        out.append((N_("Received at the desk"), data("in", ticket.id)))
    if ticket.state in (ItemSt.HELD, ItemSt.FOR_DISPOSAL) and ctx.person.has_role(
        Role.RECEPTIONIST
    ):
        out.append((N_("Claim at the desk (no Telegram)"), data("walk", ticket.id)))
    if ticket.state == ItemSt.FOR_DISPOSAL and may_dispose(ctx.person):
        out.append((N_("Record disposal outcome"), data("dsp", ticket.id)))
    return out


async def claim_buttons(ctx: Ctx, ticket_id: int) -> list[tuple[str, str]]:
    """Actions on a claim's /ticket card: the claimant's and the desk's."""
    ticket, _, _, _ = await flow.load_claim(ctx.session, ticket_id)
    out: list[tuple[str, str]] = []
    open_states = (ClaimSt.CLAIMED, ClaimSt.ID_CHECKED)
    if ticket.owner_id == ctx.person.id:
        if ticket.state == ClaimSt.ID_CHECKED:
            out.append((N_("I have received it"), data("rcv", ticket.id)))
        if ticket.state in open_states:
            out.append((N_("Withdraw claim"), data("wd", ticket.id)))
    if ctx.person.has_role(Role.RECEPTIONIST) and ticket.state in open_states:
        if ticket.state == ClaimSt.CLAIMED:
            out.append((N_("Check ID at the desk"), data("ver", ticket.id)))
        else:
            out.append((N_("Paper signature"), data("pap", ticket.id)))
        out.append((N_("Not accepted"), data("rej", ticket.id)))
    return out


BUTTONS: dict[str, TgCallback] = {
    r"^lf:in:": received_at_desk,
    r"^lf:ver:": verify,
    r"^lf:pap:": paper,
    r"^lf:rej:": reject,
    r"^lf:walk:": walk_in,
    r"^lf:dsp:": disposal,
}
