"""Complaints and suggestions (投诉/建议): the /complain form for owners, the same form for staff
logging a complaint heard face to face, by phone, letter or e-mail (4.2.1, 4.2.3), and /cases.
The staff buttons are in :mod:`handlers.complaint_staff`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers import complaint_followup, complaint_staff, forms, labels, tickets
from handlers.base import REFUSALS, Ctx, TgCallback, desk
from handlers.common import require_owner, require_staff
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.text import take_text
from models import complaint_flow as flow
from models.base import N_, DomainError
from models.calendar import parse_moment
from models.complaint import (
    ACTION_NAMES,
    CHANNELS,
    MAX_PHOTOS,
    RAISED_WITH,
    RECEIVED_WITHIN,
    STATE_NAMES,
    bindings_of_unit,
    complainant_of,
    work_for,
)
from models.notification import Msg, msg
from models.property import OWNER_RELATIONS, Unit, unit_by_code, units_of

OWNER_FORM, STAFF_FORM = "complaint", "c_staff"
MAX_WHO = 8  # people offered as the one who raised a logged complaint

labels.register(
    "CS",
    {k.value: v for k, v in STATE_NAMES.items()},
    {**ACTION_NAMES, "reopened": N_("reopened")},
)

REFUSALS.update(
    {
        "complaint_not_responsible": N_("{name} cannot be made responsible for this case."),
        "complaint_already_responsible": N_("{name} is already responsible for this case."),
        "complaint_owner_not_in_bot": N_(
            "The owner of {ref} does not use the bot. Please call them and record the follow-up."
        ),
        "complaint_explanation_needed": N_(
            "A class 3 complaint needs an explanation written for the owner."
        ),
    }
)


def _c(data: dict[str, Any], step: str, value: str) -> str:
    return choice(data["form"], step, value)


def _suggestion(data: dict[str, Any]) -> bool:
    return data.get("kind") == "S"


async def ask_unit_code(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("Which unit is it about? Send the unit number, for example 1-2-301."))


async def take_unit_code(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    code = take_text(answer, 3, 64)
    unit = await unit_by_code(ctx.session, code)
    if unit is None:
        raise Invalid(N_("There is no unit {unit}. Please check the number."), unit=code)
    data["unit_id"] = unit.id
    data["complainant"] = None
    return "who" if await bindings_of_unit(ctx.session, unit.id) else "channel"


async def ask_who(ctx: Ctx, data: dict[str, Any]) -> Msg:
    """Whom the case is from: a flat can have several people in the bot (owner, family,
    tenant, a former owner not yet unlinked); guessing would tell the wrong one."""
    out = msg(N_("Who raised it? The person you choose is told it was recorded."))
    for b in (await bindings_of_unit(ctx.session, data["unit_id"]))[:MAX_WHO]:
        owner = b.relation in OWNER_RELATIONS
        label = N_("{name} (owner)") if owner else N_("{name} (tenant)")
        out.button_row((label, {"name": b.person.name[:40]}, _c(data, "who", str(b.person_id))))
    return out.button_row((N_("Someone not using the bot"), _c(data, "who", "none")))


async def take_who(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    bound = {str(b.person_id) for b in await bindings_of_unit(ctx.session, data["unit_id"])}
    if answer.choice != "none" and answer.choice not in bound:
        raise Invalid(N_("Please choose one of the buttons."))
    data["complainant"] = None if answer.choice == "none" else int(answer.choice or 0)
    return "channel"


async def ask_channel(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("How did the owner raise it?"))
    return out.button_row(
        *[(CHANNELS[c], _c(data, "channel", c)) for c in ("face", "phone", "letter", "email")]
    )


async def take_channel(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("face", "phone", "letter", "email"):
        raise Invalid(N_("Please choose one of the buttons."))
    data["channel"] = answer.choice
    return "received"


async def ask_received(ctx: Ctx, data: dict[str, Any]) -> Msg:
    """4.2.3: whoever receives a complaint passes it to the front desk within an hour; the
    case keeps when it was received, so a late hand-over shows on the record."""
    out = msg(
        N_(
            "When did you receive it? Press Just now, or type the time, for example "
            "2026-11-27 14:30, or 14:30 for today (yesterday, if that time is still to "
            "come)."
        )
    )
    return out.button_row((N_("Just now"), _c(data, "received", "now")))


async def take_received(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "now":
        moment = ctx.now
    else:
        typed = answer.text and parse_moment(answer.text, ctx.now, ctx.rt.env.calendar, past=True)
        if not typed:
            raise Invalid(
                N_(
                    "Please type the time like 2026-11-27 14:30, or 14:30 for today (yesterday, "
                    "if that time is still to come)."
                )
            )
        if typed > ctx.now:
            raise Invalid(N_("That time is still to come. When did you receive it?"))
        if ctx.now - typed > RECEIVED_WITHIN:
            raise Invalid(
                N_(
                    "That is more than 7 days ago. Please log it as received just now and "
                    "write when it was received in the details."
                )
            )
        moment = typed
    data["received_at"] = moment.isoformat()
    return "kind"


async def ask_kind(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("📝 Is it a complaint or a suggestion?"))
    return out.button_row(
        (N_("Complaint (投诉)"), _c(data, "kind", "C")),
        (N_("Suggestion (建议)"), _c(data, "kind", "S")),
    )


async def take_kind(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("C", "S"):
        raise Invalid(N_("Please choose one of the buttons."))
    data["kind"] = answer.choice
    if data["form"] == STAFF_FORM:
        return "description"
    units = await units_of(ctx.session, ctx.person)
    if len(units) == 1:
        data["unit_id"] = units[0].id
        return "description"
    return "unit"


async def ask_unit(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Which unit is it about?"))
    for unit in await units_of(ctx.session, ctx.person):
        out.button_row((unit.code, _c(data, "unit", str(unit.id))))
    return out


async def take_unit(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    mine = {str(u.id) for u in await units_of(ctx.session, ctx.person)}
    if answer.choice not in mine:
        raise Invalid(N_("Please choose one of the buttons."))
    data["unit_id"] = int(answer.choice or 0)
    return "description"


async def ask_description(ctx: Ctx, data: dict[str, Any]) -> Msg:
    if _suggestion(data):
        return msg(N_("What is the suggestion? Please write it in a few sentences."))
    return msg(N_("What happened? Please describe it: what, when, and who was involved."))


async def take_description(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.photo is not None and not answer.text:
        raise Invalid(N_("Please describe it in words first; you can add photos next."))
    data["description"] = take_text(answer, 2, 1000)
    data.setdefault("photos", [])
    return "photos"


async def ask_place(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Where was it? For example: the north gate, building 3 lobby. Or skip."))
    return out.button_row((N_("Skip"), _c(data, "place", "skip")))


async def take_place(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["location"] = None if answer.choice == "skip" else take_text(answer, 2, 200)
    return "confirm" if _suggestion(data) else "elsewhere"


async def ask_elsewhere(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Has it already been raised with the company, the group or a government office?"))
    out.button_row((N_("No"), _c(data, "elsewhere", "no")))
    return out.button_row(*[(label, _c(data, "elsewhere", k)) for k, label in RAISED_WITH.items()])


async def take_elsewhere(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice != "no" and answer.choice not in RAISED_WITH:
        raise Invalid(N_("Please choose one of the buttons."))
    data["raised_with"] = None if answer.choice == "no" else answer.choice
    return "spot" if data.get("channel") == "face" else "confirm"


async def ask_spot(ctx: Ctx, data: dict[str, Any]) -> Msg:
    """4.2.1: a complaint made face to face that can be resolved there and then is resolved
    there and then, and reported to the superior."""
    out = msg(N_("Was it resolved on the spot?"))
    return out.button_row(
        (N_("Yes, resolved on the spot"), _c(data, "spot", "yes")),
        (N_("No, it needs handling"), _c(data, "spot", "no")),
    )


async def take_spot(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("yes", "no"):
        raise Invalid(N_("Please choose one of the buttons."))
    if answer.choice == "no":
        data["on_the_spot"] = None
        return "confirm"
    # (what was done is the next answer's; kept as it was when an earlier answer changes)
    data.setdefault("on_the_spot", None)
    return "spot_result"


async def ask_spot_result(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("What was done, and with what result? The front desk tells the owner."))


async def take_spot_result(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["on_the_spot"] = take_text(answer, 2, 1000)
    return "confirm"


async def _unit(ctx: Ctx, data: dict[str, Any]) -> Unit | None:
    if data["form"] == STAFF_FORM:
        return await ctx.session.get(Unit, data.get("unit_id", 0))
    mine = await units_of(ctx.session, ctx.person)
    return next((u for u in mine if u.id == data.get("unit_id")), None)


async def ask_confirm(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Please check before sending:"))
    kind = N_("suggestion") if _suggestion(data) else N_("complaint")
    out.add(N_("Type: {kind}"), kind=msg(kind))
    unit = await _unit(ctx, data)
    if unit is not None:
        out.add(N_("Unit: {unit}"), unit=unit.code)
    if data["form"] == STAFF_FORM and unit is not None:
        who = await complainant_of(ctx.session, unit, data.get("complainant"))
        if who is not None:
            out.add(N_("Raised by: {name}"), name=who.name)
        else:
            out.add(N_("Raised by: someone not using the bot (nobody is messaged)"))
    if data.get("channel"):
        out.add(N_("Received by: {channel}"), channel=msg(CHANNELS[data["channel"]]))
    if data.get("received_at"):
        out.add(N_("Received at: {time}"), time=datetime.fromisoformat(data["received_at"]))
    out.add(N_("Details: {text}"), text=data["description"])
    out.add(N_("Photos: {count}"), count=len(data.get("photos", [])))
    if data.get("location"):
        out.add(N_("Where: {place}"), place=data["location"])
    if data.get("raised_with"):
        out.add(N_("Already raised with: {where}"), where=msg(RAISED_WITH[data["raised_with"]]))
    if data.get("on_the_spot"):
        out.add(N_("Resolved on the spot: {text}"), text=data["on_the_spot"])
    return out.button_row(
        (N_("Submit"), _c(data, "confirm", "yes")), (N_("Cancel"), _c(data, "confirm", "no"))
    )


async def take_confirm(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("yes", "no"):
        raise Invalid(N_("Please press Submit or Cancel."))
    data["declined"] = answer.choice == "no"
    return DONE


async def finish(ctx: Ctx, data: dict[str, Any]) -> None:
    if data.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    unit = await _unit(ctx, data)
    if unit is None:
        ctx.reply(N_("You are no longer linked to that unit. Nothing was submitted."))
        return
    try:
        async with ctx.session.begin_nested():
            ticket, complaint = await flow.file(
                ctx.session, ctx.person, unit, data, ctx.now, ctx.rt.env
            )
    except DomainError as refused:
        ctx.reply(
            REFUSALS.get(refused.code, N_("This cannot be done right now.")), **refused.params
        )
        return
    if data["form"] == STAFF_FORM:
        ctx.reply(
            N_("✅ Recorded {ref} for unit {unit} (received by {channel}); the front desk has it."),
            ref=ticket.ref,
            unit=unit.code,
            channel=msg(CHANNELS[complaint.channel]),
        )
        if complaint.on_the_spot:
            ctx.reply(N_("Your superior has been told it was resolved on the spot (4.2.1)."))
        return
    done = msg(
        N_("✅ Your suggestion has been filed. Reference: {ref}")
        if _suggestion(data)
        else N_("✅ Your complaint has been filed. Reference: {ref}"),
        ref=ticket.ref,
    )
    done.lines += flow.promise(ticket, complaint, ctx.now, ctx.rt.env).lines
    ctx.reply(done)


STEPS = {
    "unit_code": Step(ask_unit_code, take_unit_code),
    "who": Step(ask_who, take_who),
    "channel": Step(ask_channel, take_channel),
    "received": Step(ask_received, take_received, recheck=False),  # ("just now" stays then)
    "kind": Step(ask_kind, take_kind),
    "unit": Step(ask_unit, take_unit),
    "description": Step(ask_description, take_description),
    "photos": forms.photos_step(
        N_(
            "You can send up to {max} photos ({count} so far). Press the button when you are "
            "done, or skip."
        ),
        lambda data: "place",
        limit=MAX_PHOTOS,
    ),
    "place": Step(ask_place, take_place),
    "elsewhere": Step(ask_elsewhere, take_elsewhere),
    "spot": Step(ask_spot, take_spot),
    "spot_result": Step(ask_spot_result, take_spot_result),
    "confirm": Step(ask_confirm, take_confirm),
}
# (one list for both forms: only the questions a person was asked are offered)
CHANGEABLE = (
    ("unit_code", N_("Unit")),
    ("who", N_("Raised by")),
    ("channel", N_("How it was raised")),
    ("received", N_("When it was received")),
    ("kind", N_("Complaint or suggestion")),
    ("unit", N_("Unit")),
    ("description", N_("Description")),
    ("photos", N_("Photos")),
    ("place", N_("Place")),
    ("elsewhere", N_("Raised elsewhere")),
    ("spot", N_("Resolved on the spot")),
)
COMPLAINT_FORM = forms.register(
    Form(OWNER_FORM, N_("complaint"), "kind", STEPS, finish, "confirm", CHANGEABLE)
)
LOGGED_FORM = forms.register(
    Form(STAFF_FORM, N_("complaint record"), "unit_code", STEPS, finish, "confirm", CHANGEABLE)
)


@desk
async def complain(ctx: Ctx) -> None:
    """/complain: an owner files a complaint or suggestion; staff log one for a unit."""
    if ctx.person.is_staff and not await units_of(ctx.session, ctx.person):
        await forms.begin(ctx, LOGGED_FORM, {"form": STAFF_FORM})
    elif await require_owner(ctx):
        await forms.begin(ctx, COMPLAINT_FORM, {"form": OWNER_FORM})


@desk
async def log_complaint(ctx: Ctx) -> None:
    """/log: staff record a complaint heard face to face, by phone, letter or e-mail."""
    if require_staff(ctx):
        await forms.begin(ctx, LOGGED_FORM, {"form": STAFF_FORM})


tickets.CARD_BUTTONS["C"] = complaint_followup.card_buttons
tickets.CARD_BUTTONS["S"] = complaint_followup.card_buttons
for _kind in "CS":
    tickets.CARD_RENDERERS[_kind] = lambda ctx, t: complaint_followup.render_card(ctx, t.id)

tickets.register_queue_source(work_for)

COMMANDS: dict[str, TgCallback] = {
    "complain": complain,
    "log": log_complaint,
    "cases": complaint_followup.cases,
}
BUTTONS: dict[str, TgCallback] = {**complaint_staff.BUTTONS, **complaint_followup.BUTTONS}
