"""Lost and found (物品拾遗), the owner's side: /lost, the list and search of found items, the
claim form, reporting something lost, and the signature on receipt.

Owners see an item's category, general name, where and when it was found — never its
distinguishing details or photos: to claim, they describe the item themselves (4.4).
"""

from __future__ import annotations

from typing import Any

from handlers import forms, labels, lost_found_desk, lost_found_staff, tickets
from handlers.base import REFUSALS, Ctx, TgCallback, desk
from handlers.common import require_owner
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.lost_found_staff import attempt, category_buttons, take_category
from handlers.text import take_text
from models import lost_found_flow as flow
from models.base import N_
from models.lost_found import ACTION_NAMES, BOT, STATE_NAMES, ItemSt
from models.lost_found_notices import category_name, data
from models.lost_found_rules import words
from models.lost_found_search import (
    claimable_items,
    listing,
    open_reports,
    report_lost,
    search,
    withdraw_report,
)
from models.notification import Msg, msg

labels.register("FL", {k.value: v for k, v in STATE_NAMES.items()}, ACTION_NAMES)

REFUSALS.update(
    {
        "lf_item_returned": N_(
            "{ref} has already been returned to its owner. If you think it is yours, please "
            "contact the front desk."
        ),
        "lf_item_gone": N_("{ref} is no longer kept for its owner."),
        "lf_claim_duplicate": N_("You already have an open claim on this item: {ref}."),
        "lf_other_verified": N_(
            "Another claim on this item ({ref}) has already had its ID checked; only one claim "
            "can be verified."
        ),
        "lf_claim_verified": N_(
            "Claim {ref} on this item has had the claimant's ID checked at the desk: hand the "
            "item over to them, or reject the claim, before recording its disposal."
        ),
        "lf_not_received": N_(
            "{ref} has not been received at the front desk yet: the ID check and the handover "
            "wait until it is here. If it has just arrived, press Received at the desk first."
        ),
        "lf_already_received": N_(
            "{ref} has already been received at the front desk. Nothing was changed."
        ),
        "lf_own_claim": N_("This is your own claim: a colleague at the desk checks your ID."),
        "lf_found_future": N_("That time is in the future. When was it found?"),
        "lf_found_too_old": N_("That is more than {days} days ago. Please check the date."),
        "lf_id_format": N_("A resident ID number has 18 characters: 17 digits, then a digit or X."),
        "lf_id_checksum": N_(
            "This ID number is not valid: its check digit does not match. Please compare it "
            "with the card."
        ),
        "lf_id_birth": N_("This ID number is not valid: it does not contain a real birth date."),
        "lf_doc_format": N_(
            "A passport or permit number has 6 to 20 letters and digits, at least 4 of them digits."
        ),
    }
)
SEARCH, CLAIM, REPORT = "lf_search", "lf_claim", "lf_report"


def menu() -> Msg:
    out = msg(
        N_(
            "🔎 Lost and found (物品拾遗). Look through what has been handed in, search it, or "
            "tell us what you lost. To claim an item you describe it, then show your original "
            "ID card at the front desk."
        )
    )
    out.button_row((N_("Recently found items"), data("rec", 0)), (N_("Search"), data("srch", 0)))
    return out.button_row(
        (N_("I lost something"), data("rep", 0)), (N_("My lost reports"), data("mine", 0))
    )


@desk
async def lost(ctx: Ctx) -> None:
    """/lost: the lost-and-found menu (owners)."""
    if await require_owner(ctx):
        ctx.reply(menu())


@desk
async def recent(ctx: Ctx) -> None:
    """Recently found items, newest first, a page at a time."""
    if not await require_owner(ctx):
        return
    ctx.answer()
    size = ctx.rt.env.lost_found.list_size
    start = min(ctx.target_id, 10_000)
    rows = await claimable_items(ctx.session, limit=start + size + 1)
    page = rows[start : start + size]
    if not page:
        ctx.reply(N_("No found items are waiting for their owners right now."))
        return
    more = start + size if len(rows) > start + size else None
    head = msg(N_("Found items, newest first:"))
    ctx.reply(listing(page, ctx.rt.env, head, more_from=more))


# --- search ---------------------------------------------------------------------------------------


async def ask_search_category(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = category_buttons(ctx, msg(N_("Search found items. Which category?")), SEARCH, "category")
    return out.button_row((N_("Any category"), choice(SEARCH, "category", "any")))


async def take_search_category(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["category"] = None if answer.choice == "any" else take_category(ctx, answer)
    return "words"


async def ask_words(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(
        N_(
            "Which words should its name or the place contain (for example: wallet, keys, "
            "lobby)? Or press Show all."
        )
    )
    return out.button_row((N_("Show all"), choice(SEARCH, "words", "all")))


async def take_words(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "all":
        d["words"] = ""
        return DONE
    d["words"] = take_text(answer, 1, 100)
    if not words(d["words"]):
        raise Invalid(N_("Please type at least one word of two letters, or a Chinese character."))
    return DONE


async def finish_search(ctx: Ctx, d: dict[str, Any]) -> None:
    rows = await search(ctx.session, d.get("category"), d.get("words", ""))
    size = ctx.rt.env.lost_found.list_size
    if not rows:
        out = msg(
            N_(
                "Nothing found matches your search. Tell us what you lost, and we will let you "
                "know when something matching is handed in."
            )
        )
        ctx.reply(out.button_row((N_("I lost something"), data("rep", 0))))
        return
    head = msg(N_("Found items matching your search ({count}):"), count=len(rows))
    if len(rows) > size:
        head.add(N_("Showing the best {count}; add words to narrow it down."), count=size)
    ctx.reply(listing(rows[:size], ctx.rt.env, head))


SEARCH_FORM = forms.register(
    Form(
        SEARCH,
        N_("search of found items"),
        "category",
        {
            "category": Step(ask_search_category, take_search_category),
            "words": Step(ask_words, take_words),
        },
        finish_search,
    )
)


@desk
async def start_search(ctx: Ctx) -> None:
    """Search pressed: category, then words."""
    if await require_owner(ctx):
        ctx.answer()
        await forms.begin(ctx, SEARCH_FORM)


# --- the claim ----------------------------------------------------------------------------


async def ask_claim_name(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return msg(
        N_(
            "Claim for {ref}. In your own words, what is the item? Name it as precisely as you "
            "can: kind, brand, model."
        ),
        ref=d["ref"],
    )


async def take_claim_name(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["item_name"] = take_text(answer, 2, 200)
    return "features"


async def ask_features(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return msg(
        N_(
            "What distinguishes it: colour, marks, damage, what is inside? The front desk "
            "compares your description with what was registered."
        )
    )


async def take_features(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["features"] = take_text(answer, 2, 1000)
    return "confirm"


async def ask_claim_confirm(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(N_("Please check your claim for {ref}:"), ref=d["ref"])
    out.add(N_("You call it: {text}"), text=d["item_name"])
    out.add(N_("Its features: {text}"), text=d["features"])
    return out.button_row(
        (N_("Submit claim"), choice(CLAIM, "confirm", "yes")),
        (N_("Cancel"), choice(CLAIM, "confirm", "no")),
    )


async def take_yes_no(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("yes", "no"):
        raise Invalid(N_("Please press Submit or Cancel."))
    d["declined"] = answer.choice == "no"
    return DONE


async def finish_claim(ctx: Ctx, d: dict[str, Any]) -> None:
    if d.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    done = await attempt(
        ctx,
        lambda: flow.file_claim(
            ctx.session, ctx.person, d["iid"], d["item_name"], d["features"], ctx.now, ctx.rt.env
        ),
    )
    if done is None:
        return
    ctx.reply(N_("✅ Your claim has been filed. Reference: {ref}"), ref=done[0].ref)
    if done[1].state == ItemSt.TO_DESK:
        ctx.reply(
            N_(
                "The item is on its way to the front desk. We will tell you when it is there: "
                "then bring your original ID card (身份证原件) to collect it; you sign for it "
                "here in the bot."
            )
        )
        return
    ctx.reply(
        N_(
            "Please bring your original ID card (身份证原件) to the front desk. The receptionist "
            "checks your description and your ID, then hands the item over; you sign for it "
            "here in the bot."
        )
    )


CLAIM_FORM = forms.register(
    Form(
        CLAIM,
        N_("claim of a found item"),
        "name",
        {
            "name": Step(ask_claim_name, take_claim_name),
            "features": Step(ask_features, take_features),
            "confirm": Step(ask_claim_confirm, take_yes_no),
        },
        finish_claim,
        "confirm",
        (("name", N_("What the item is")), ("features", N_("Its features"))),
    )
)


@desk
async def claim(ctx: Ctx) -> None:
    """Claim pressed on a listed item: the owner describes it in their own words."""
    if not await require_owner(ctx):
        return
    ticket = await flow.may_claim(ctx.session, ctx.target_id, ctx.person)
    ctx.answer()
    await forms.begin(ctx, CLAIM_FORM, {"iid": ticket.id, "ref": ticket.ref})


@desk
async def received(ctx: Ctx) -> None:
    """The claimant signs for the item: I have received it."""
    _, item_ticket = await flow.sign(ctx.session, ctx.target_id, ctx.person, BOT, ctx.now)
    ctx.clear_buttons = True
    ctx.answer(N_("Thank you: {ref} is recorded as returned to you."), ref=item_ticket.ref)


@desk
async def withdraw(ctx: Ctx) -> None:
    """The claimant withdraws their claim."""
    ticket = await flow.withdraw(ctx.session, ctx.target_id, ctx.person, ctx.now)
    ctx.clear_buttons = True
    ctx.reply(N_("{ref} has been withdrawn."), ref=ticket.ref)


# --- reporting something lost ------------------------------------------------------------------


@desk
async def my_reports(ctx: Ctx) -> None:
    """The owner's lost reports still open, each with a button to withdraw it."""
    if not await require_owner(ctx):
        return
    ctx.answer()
    reports = await open_reports(ctx.session, ctx.person, ctx.now)
    if not reports:
        empty = msg(N_("You have no open lost reports."))
        empty.button_row((N_("I lost something"), data("rep", 0)))
        ctx.reply(empty)
        return
    for report in reports[:10]:
        out = msg(
            N_("📝 {category}: {text}"),
            category=category_name(ctx.rt.env, report.category),
            text=report.text,
        )
        out.add(N_("Reported {when}; watched until {until}."), when=report.created_at,
                until=report.expires_at)  # fmt: skip
        out.button_row((N_("Found it / withdraw"), data("rw", report.id)))
        ctx.reply(out)


@desk
async def withdraw_lost_report(ctx: Ctx) -> None:
    """Withdraw a lost report: no more "something matching was handed in" messages."""
    if not await require_owner(ctx):
        return
    await withdraw_report(ctx.session, ctx.target_id, ctx.person, ctx.now)
    ctx.clear_buttons = True
    ctx.answer()
    ctx.reply(
        N_("Your lost report has been withdrawn. We will not tell you about matches any more.")
    )


async def ask_report_category(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return category_buttons(ctx, msg(N_("What kind of thing did you lose?")), REPORT, "category")


async def take_report_category(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["category"] = take_category(ctx, answer)
    return "text"


async def ask_report_text(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return msg(N_("Describe it: what it is, and where and when you think you lost it."))


async def take_report_text(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["text"] = take_text(answer, 2, 500)
    return "confirm"


async def ask_report_confirm(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(N_("Please check your report:"))
    out.add(N_("Category: {name}"), name=category_name(ctx.rt.env, d["category"]))
    out.add(N_("Description: {text}"), text=d["text"])
    return out.button_row(
        (N_("Submit"), choice(REPORT, "confirm", "yes")),
        (N_("Cancel"), choice(REPORT, "confirm", "no")),
    )


async def finish_report(ctx: Ctx, d: dict[str, Any]) -> None:
    if d.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    done = await attempt(
        ctx,
        lambda: report_lost(ctx.session, ctx.person, d["category"], d["text"], ctx.now, ctx.rt.env),
    )
    if done is None:
        return
    ctx.reply(
        N_(
            "📝 Noted. If something matching is handed in within {days} days, we will tell "
            "you. You can look at /lost at any time."
        ),
        days=ctx.rt.env.lost_found.report_valid.days,
    )
    # What is already at the desk is matched now, as a newly registered item would be later.
    held = await search(ctx.session, d["category"], d["text"])
    if held:
        head = msg(
            N_("🔔 Already handed in, not yet claimed, and perhaps yours ({count}):"),
            count=len(held),
        )
        ctx.reply(listing(held[: ctx.rt.env.lost_found.list_size], ctx.rt.env, head))


REPORT_FORM = forms.register(
    Form(
        REPORT,
        N_("report of a lost item"),
        "category",
        {
            "category": Step(ask_report_category, take_report_category),
            "text": Step(ask_report_text, take_report_text),
            "confirm": Step(ask_report_confirm, take_yes_no),
        },
        finish_report,
        "confirm",
        (("category", N_("Category")), ("text", N_("Description"))),
    )
)


@desk
async def start_report(ctx: Ctx) -> None:
    """I lost something pressed: what, then where and when."""
    if await require_owner(ctx):
        ctx.answer()
        await forms.begin(ctx, REPORT_FORM)


tickets.CARD_BUTTONS["F"] = lost_found_desk.item_buttons
tickets.CARD_BUTTONS["L"] = lost_found_desk.claim_buttons
tickets.register_queue_source(flow.work_for)

COMMANDS: dict[str, TgCallback] = {"lost": lost, "found": lost_found_staff.found}
BUTTONS: dict[str, TgCallback] = {
    r"^lf:rec:": recent,
    r"^lf:srch:": start_search,
    r"^lf:rep:": start_report,
    r"^lf:mine:": my_reports,
    r"^lf:rw:": withdraw_lost_report,
    r"^lf:cl:": claim,
    r"^lf:rcv:": received,
    r"^lf:wd:": withdraw,
    **lost_found_desk.BUTTONS,
}
