"""Lost and found, the staff side: /found (拾遗物品登记, any staff member), and the helpers the
other lost-and-found handler modules share (finishing a form, category buttons)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from handlers import forms
from handlers.base import REFUSALS, Ctx, desk
from handlers.common import require_staff
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.text import take_text
from models import lost_found_flow as flow
from models.base import N_, DomainError
from models.lost_found import ItemSt
from models.lost_found_rules import check_found_at, parse_found_time
from models.notification import Localized, Msg, msg

T = TypeVar("T")
MAX_PHOTOS = 3
FOUND = "lf_found"


async def attempt(ctx: Ctx, op: Callable[[], Awaitable[T]]) -> T | None:
    """Run the change a finished form asks for; a refusal is answered and undoes the change
    only (the form stays closed, so nobody is stuck in it)."""
    try:
        async with ctx.session.begin_nested():
            return await op()
    except DomainError as refused:
        ctx.reply(
            REFUSALS.get(refused.code, N_("This cannot be done right now.")), **refused.params
        )
        return None


def refused(error: DomainError) -> Invalid:
    """A domain rule's refusal of a typed answer, as the reason to type it again."""
    return Invalid(REFUSALS.get(error.code, N_("This cannot be done right now.")), **error.params)


def category_buttons(ctx: Ctx, out: Msg, form: str, step: str) -> Msg:
    cats = list(ctx.rt.env.lost_found.categories)
    for i in range(0, len(cats), 2):
        out.button_row(
            *[
                ("{name}", {"name": Localized(c.name())}, choice(form, step, c.code))
                for c in cats[i : i + 2]
            ]
        )
    return out


def take_category(ctx: Ctx, answer: Answer) -> str:
    if answer.choice is None or ctx.rt.env.lost_found.category(answer.choice) is None:
        raise Invalid(N_("Please choose one of the buttons."))
    return answer.choice


# --- /found ----------------------------------------------------------------------------------


def _text_step(key: str, prompt: str, low: int, high: int, after: str) -> Step:
    async def ask(ctx: Ctx, data_: dict[str, Any]) -> Msg:
        return msg(prompt)

    async def take(ctx: Ctx, data_: dict[str, Any], answer: Answer) -> str:
        data_[key] = take_text(answer, low, high)
        return after

    return Step(ask, take)


async def ask_category(ctx: Ctx, d: dict[str, Any]) -> Msg:
    return category_buttons(ctx, msg(N_("Which category?")), FOUND, "category")


async def take_found_category(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    d["category"] = take_category(ctx, answer)
    cat = ctx.rt.env.lost_found.category(d["category"])
    d["valuable"] = bool(cat and cat.valuable)
    return "place" if d["valuable"] else "valuable"


async def ask_valuable(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(
        N_(
            "Is it valuable (like money, a phone, jewellery or cards)? A valuable item not "
            "claimed on the day goes into the safekeeping of administration."
        )
    )
    return out.button_row(
        (N_("Valuable"), choice(FOUND, "valuable", "yes")),
        (N_("Not valuable"), choice(FOUND, "valuable", "no")),
    )


async def take_valuable(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("yes", "no"):
        raise Invalid(N_("Please choose one of the buttons."))
    d["valuable"] = answer.choice == "yes"
    return "place"


async def ask_when(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(
        N_(
            "When was it found? Press Just now, or type the time, for example "
            "2026-11-27 14:30, or 14:30 for today (yesterday, if that time is still to "
            "come)."
        )
    )
    return out.button_row((N_("Just now"), choice(FOUND, "when", "now")))


async def take_when(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    typed = (
        None if answer.text is None else parse_found_time(answer.text, ctx.now, ctx.rt.env.calendar)
    )
    moment = ctx.now if answer.choice == "now" else typed
    if moment is None:
        raise Invalid(
            N_(
                "Please type the time like 2026-11-27 14:30, or 14:30 for today (yesterday, "
                "if that time is still to come)."
            )
        )
    try:
        check_found_at(moment, ctx.now, ctx.rt.env.lost_found)
    except DomainError as error:
        raise refused(error) from None
    d["found_at"] = moment.isoformat()
    return "finder"


async def ask_finder(ctx: Ctx, d: dict[str, Any]) -> Msg:
    out = msg(N_("Who found it? Press I found it, or type the finder's name."))
    return out.button_row((N_("I found it"), choice(FOUND, "finder", "me")))


async def take_finder(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "me":
        d["finder_me"], d["finder"] = True, ctx.person.name
    else:
        d["finder_me"], d["finder"] = False, take_text(answer, 2, 100)
    d.setdefault("photos", [])
    return "photos"


async def ask_confirm(ctx: Ctx, d: dict[str, Any]) -> Msg:
    cat = ctx.rt.env.lost_found.category(d["category"])
    out = msg(N_("Please check the registration:"))
    out.add(N_("Item: {name}"), name=d["name"])
    out.add(N_("Details (staff only): {text}"), text=d["description"])
    out.add(N_("Category: {name}"), name=Localized(cat.name()) if cat else d["category"])
    out.add(N_("Valuable: {answer}"), answer=msg(N_("yes") if d["valuable"] else N_("no")))
    out.add(
        N_("Found at {place}, {time}, by {finder}"),
        place=d["place"],
        time=datetime.fromisoformat(d["found_at"]),
        finder=d["finder"],
    )
    out.add(N_("Photos: {count}"), count=len(d.get("photos", [])))
    return out.button_row(
        (N_("Register"), choice(FOUND, "confirm", "yes")),
        (N_("Cancel"), choice(FOUND, "confirm", "no")),
    )


async def take_confirm(ctx: Ctx, d: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("yes", "no"):
        raise Invalid(N_("Please press Register or Cancel."))
    d["declined"] = answer.choice == "no"
    return DONE


async def finish_found(ctx: Ctx, d: dict[str, Any]) -> None:
    if d.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    done = await attempt(
        ctx, lambda: flow.register(ctx.session, ctx.person, d, ctx.now, ctx.rt.env)
    )
    if done is None:
        return
    ticket, item = done
    if ticket.state == ItemSt.TO_DESK:
        ctx.reply(
            N_(
                "✅ Registered as {ref}. Please hand the item in to the front desk today: the "
                "receptionist confirms receiving it in the bot, and you will be told."
            ),
            ref=ticket.ref,
        )
        if item.valuable:
            ctx.reply(
                N_(
                    "💰 Valuable: if nobody claims it on the day the front desk receives it, it "
                    "goes into the safekeeping of administration at the close of that day."
                )
            )
        return
    ctx.reply(N_("✅ Registered as {ref}. Keep the item at the front desk."), ref=ticket.ref)
    if item.valuable:
        ctx.reply(
            N_(
                "💰 Valuable: if nobody claims it by {time}, it goes into the safekeeping of "
                "administration."
            ),
            time=ctx.rt.env.calendar.end_of_business_day(ticket.created_at),
        )


FOUND_FORM = forms.register(
    Form(
        FOUND,
        N_("found item registration"),
        "name",
        {
            "name": _text_step(
                "name",
                N_(
                    "🧳 Register a found item (拾遗物品登记). What is it? Give a short general "
                    "name that owners will see, e.g. black wallet or keys — the distinguishing "
                    "details come next."
                ),
                2,
                60,
                "description",
            ),
            "description": _text_step(
                "description",
                N_(
                    "Distinguishing details: brand, colour, contents, marks. Owners never see "
                    "these: a claimant must describe them to the front desk."
                ),
                2,
                1000,
                "category",
            ),
            "category": Step(ask_category, take_found_category),
            "valuable": Step(ask_valuable, take_valuable),
            "place": _text_step("place", N_("Where was it found?"), 2, 200, "when"),
            "when": Step(ask_when, take_when, recheck=False),  # ("just now" stays then)
            "finder": Step(ask_finder, take_finder),
            "photos": forms.photos_step(
                N_(
                    "Send a photo of the item (recommended; up to {max}, {count} so far), or press "
                    "the button. Owners never see the photos."
                ),
                lambda d: "confirm",
                limit=MAX_PHOTOS,
                skip_label=N_("No photo"),
            ),
            "confirm": Step(ask_confirm, take_confirm),
        },
        finish_found,
        "confirm",
        (
            ("name", N_("Item name")),
            ("description", N_("Details (staff only)")),
            ("category", N_("Category")),
            ("valuable", N_("Valuable or not")),
            ("place", N_("Where it was found")),
            ("when", N_("When it was found")),
            ("finder", N_("Who found it")),
            ("photos", N_("Photos")),
        ),
    )
)


@desk
async def found(ctx: Ctx) -> None:
    """/found: register a found item (any staff member)."""
    if require_staff(ctx):
        await forms.begin(ctx, FOUND_FORM)
