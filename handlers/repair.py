"""Repair requests (报修), the owner's side: the /repair form, urging and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handlers import forms, labels, tickets
from handlers.base import REFUSALS, Ctx, TgCallback, desk
from handlers.common import require_owner
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.text import take_text
from models import repair as rp
from models import repair_flow as flow
from models.base import N_
from models.notification import Localized, Money, Msg, msg
from models.property import units_of

FORM = "repair"
MAX_PHOTOS = 5

labels.register("R", {k.value: v for k, v in rp.STATE_NAMES.items()}, rp.ACTION_NAMES)

REFUSALS.update(
    {
        "repair_own_followup": N_(
            "This is your own repair request: a colleague at the front desk makes the "
            "follow-up call (回访)."
        ),
        "repair_daily_limit": N_(
            "You have filed {limit} repair requests today, the most allowed "
            "in one day. Please call the front desk if it is urgent."
        ),
        "repair_duplicate": N_(
            "You already have an open request for this: {ref}. It was not filed "
            "again; send /ticket {ref} to follow it or urge it."
        ),
        "repair_fees_not_accepted": N_(
            "The fees must be accepted before this request can be filed."
        ),
        "repair_not_technician": N_("{name} is not a technician for this building."),
        "repair_same_technician": N_("{ref} is already assigned to {name}."),
        "repair_assignee_changed": N_(
            "{ref} has been given to {name} since this list was made. Nothing was changed: "
            "open /ticket {ref} for a fresh list."
        ),
        "repair_technician_full": N_("{name} already has {limit} open jobs. Choose someone else."),
        "repair_cancel_started": N_(
            "{ref} cannot be cancelled now ({state}): a repair can be cancelled only before "
            "the technician has started work. Nothing was changed."
        ),
        "repair_urged_recently": N_(
            "You have already urged this request. You can urge it again after {time}."
        ),
    }
)


def _c(step: str, value: str) -> str:
    return choice(FORM, step, value)


async def ask_scope(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return (
        Msg()
        .add(N_("🔧 New repair request. Where is the problem?"))
        .button_row(
            (N_("In my home (入户维修)"), _c("scope", "home")),
            (N_("Public area (公共维修)"), _c("scope", "public")),
        )
    )


async def take_scope(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in ("home", "public"):
        raise Invalid(N_("Please choose one of the buttons."))
    data["scope"] = answer.choice
    units = await units_of(ctx.session, ctx.person)
    if len(units) == 1:
        data["unit_id"] = units[0].id
        return "category"
    return "unit"


async def ask_unit(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = Msg().add(N_("Which unit is it about?"))
    for unit in await units_of(ctx.session, ctx.person):
        out.button_row((unit.code, _c("unit", str(unit.id))))
    return out


async def take_unit(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    mine = {str(u.id) for u in await units_of(ctx.session, ctx.person)}
    if answer.choice not in mine:
        raise Invalid(N_("Please choose one of the buttons."))
    data["unit_id"] = int(answer.choice or 0)
    return "category"


async def ask_category(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = Msg().add(N_("What kind of problem is it?"))
    cats = list(ctx.rt.env.repair.categories)
    for i in range(0, len(cats), 2):
        out.button_row(
            *[
                ("{name}", {"name": Localized(c.name())}, _c("category", c.code))
                for c in cats[i : i + 2]
            ]
        )
    return out


async def take_category(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice is None or ctx.rt.env.repair.category(answer.choice) is None:
        raise Invalid(N_("Please choose one of the buttons."))
    data["category"] = answer.choice
    return "description"


async def ask_description(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("Please describe the problem: what is broken, where exactly, since when."))


async def take_description(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    # Two characters at least: "漏水" says what is wrong; a Latin word count is no measure.
    data["description"] = take_text(answer, 2, 1000)
    data.setdefault("photos", [])
    return "photos"


async def ask_appointment(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("When can the technician come? Choose a time, or as soon as possible."))
    out.button_row((N_("As soon as possible"), _c("appointment", "asap")))
    slots = rp.appointment_slots(ctx.now, ctx.rt.env)
    for i in range(0, len(slots), 3):
        out.button_row(
            *[
                ("{time}", {"time": t}, _c("appointment", str(int(t.timestamp()) // 60)))
                for t in slots[i : i + 3]
            ]
        )
    return out


async def take_appointment(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "asap":
        data["appointment"] = None
    else:
        try:
            moment = datetime.fromtimestamp(int(answer.choice or "x") * 60, UTC)
        except (ValueError, OverflowError, OSError):  # (a forged button: any number at all)
            raise Invalid(N_("Please choose one of the buttons.")) from None
        if not rp.slot_ok(moment, ctx.now, ctx.rt.env):
            raise Invalid(N_("That time is no longer available. Please choose another."))
        data["appointment"] = moment.isoformat()
    return _after_place(ctx, data)


SHARED_AREA = "*"  # (the button's value: a shared area, or the whole estate)


async def ask_building(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Which building is the problem in?"))
    codes = await rp.building_codes(ctx.session)
    for i in range(0, len(codes), 3):
        out.button_row(
            *[(N_("Building {code}"), {"code": c}, _c("building", c)) for c in codes[i : i + 3]]
        )
    return out.button_row((N_("Shared area / whole estate"), _c("building", SHARED_AREA)))


async def take_building(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice != SHARED_AREA and answer.choice not in await rp.building_codes(ctx.session):
        raise Invalid(N_("Please choose one of the buttons."))
    data["building"] = "" if answer.choice == SHARED_AREA else answer.choice
    return "location"


async def ask_location(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("Where exactly is it? For example: unit 2, 3rd floor stairwell."))


async def take_location(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["location"] = take_text(answer, 2, 200)
    return _after_place(ctx, data)


def _after_place(ctx: Ctx, data: dict[str, Any]) -> str:
    category = ctx.rt.env.repair.category(data["category"])
    return "fees" if category is not None and category.chargeable else "confirm"


async def ask_fees(ctx: Ctx, data: dict[str, Any]) -> Msg:
    category = ctx.rt.env.repair.category(data["category"])
    out = msg(N_("This kind of repair is charged. The fees are:"))
    for fee in category.fees if category else ():
        out.add(
            N_("• {item}: {amount}"),
            item=Localized({"zh_CN": fee.zh_CN, "en": fee.en}),
            amount=Money(fee.amount),
        )
    out.add(N_("Materials, if any are needed, are charged at their listed price."))
    return out.button_row(
        (N_("I accept the fees"), _c("fees", "yes")), (N_("Do not file"), _c("fees", "no"))
    )


async def take_fees(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    category = ctx.rt.env.repair.category(data["category"])
    if answer.choice == "no":
        data["declined"] = True
        return DONE
    if answer.choice != "yes" or category is None:
        raise Invalid(N_("Please choose one of the buttons."))
    data["fees"] = [
        {"item": {"zh_CN": f.zh_CN, "en": f.en}, "amount": f.amount} for f in category.fees
    ]
    return "confirm"


async def ask_confirm(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Please check your request:"))
    out.add(
        N_("Type: {scope}"),
        scope=msg(N_("in-home repair") if data["scope"] == "home" else N_("public area repair")),
    )
    unit = next(
        (u for u in await units_of(ctx.session, ctx.person) if u.id == data.get("unit_id")), None
    )
    if unit is not None and data["scope"] == "home":
        out.add(N_("Unit: {unit}"), unit=unit.code)
    category = ctx.rt.env.repair.category(data["category"])
    if category is not None:
        out.add(N_("Category: {name}"), name=Localized(category.name()))
    out.add(N_("Details: {text}"), text=data["description"])
    out.add(N_("Photos: {count}"), count=len(data.get("photos", [])))
    if data["scope"] == "home":
        appointment = data.get("appointment")
        if appointment:
            out.add(N_("Appointment: {time}"), time=datetime.fromisoformat(appointment))
        else:
            out.add(N_("Appointment: as soon as possible"))
    else:
        if data.get("building"):
            out.add(N_("Building: {building}"), building=data["building"])
        elif "building" in data:
            out.add(N_("Building: shared area / whole estate"))
        out.add(N_("Location: {place}"), place=data.get("location", ""))
    for fee in data.get("fees", []):
        out.add(
            N_("Fee accepted: {item} {amount}"),
            item=Localized(fee["item"]),
            amount=Money(fee["amount"]),
        )
    return out.button_row((N_("Submit"), _c("confirm", "yes")), (N_("Cancel"), _c("confirm", "no")))


async def take_confirm(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "no":
        data["declined"] = True
        return DONE
    if answer.choice != "yes":
        raise Invalid(N_("Please press Submit or Cancel."))
    appointment = data.get("appointment") if data["scope"] == "home" else None
    if appointment and not rp.slot_ok(datetime.fromisoformat(appointment), ctx.now, ctx.rt.env):
        # The form stays open for hours: a time chosen at 10:00 may have gone by 13:00.
        ctx.reply(
            N_("The appointment time {time} has passed or can no longer be booked."),
            time=datetime.fromisoformat(appointment),
        )
        data["appointment"] = None
        return "appointment"
    return DONE


async def finish(ctx: Ctx, data: dict[str, Any]) -> None:
    if data.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    unit = next(
        (u for u in await units_of(ctx.session, ctx.person) if u.id == data.get("unit_id")), None
    )
    if unit is None:
        ctx.reply(N_("You are no longer linked to that unit. Nothing was submitted."))
        return
    ticket = await flow.file(ctx.session, ctx.person, unit, data, ctx.now, ctx.rt.env)

    ctx.reply(N_("✅ Your repair request has been filed. Reference: {ref}"), ref=ticket.ref)
    ctx.reply(
        N_(
            "The front desk will dispatch a technician and you will get a message when "
            "they are on the way, when they arrive and when the work is done. Send /my "
            "to see your requests."
        )
    )


STEPS = {
    "scope": Step(ask_scope, take_scope),
    "unit": Step(ask_unit, take_unit),
    "category": Step(ask_category, take_category),
    "description": Step(ask_description, take_description),
    "photos": forms.photos_step(
        N_(
            "You can send up to {max} photos of the problem ({count} so far). Press the "
            "button when you are done, or skip."
        ),
        lambda data: "appointment" if data["scope"] == "home" else "building",
        limit=MAX_PHOTOS,
    ),
    "appointment": Step(ask_appointment, take_appointment),
    "building": Step(ask_building, take_building),
    "location": Step(ask_location, take_location),
    "fees": Step(ask_fees, take_fees),
    "confirm": Step(ask_confirm, take_confirm),
}
CHANGEABLE = (
    ("scope", N_("Home or public area")),
    ("unit", N_("Unit")),
    ("category", N_("Kind of problem")),
    ("description", N_("Description")),
    ("photos", N_("Photos")),
    ("appointment", N_("Appointment time")),
    ("building", N_("Building")),
    ("location", N_("Location")),
)
REPAIR_FORM = forms.register(
    Form(FORM, N_("repair request"), "scope", STEPS, finish, "confirm", CHANGEABLE)
)


@desk
async def repair(ctx: Ctx) -> None:
    """/repair: start a repair request (bound owners only)."""
    if await require_owner(ctx):
        await forms.begin(ctx, REPAIR_FORM)


@desk
async def urge(ctx: Ctx) -> None:
    """An owner presses Urge (催单) on their ticket."""
    ticket = await flow.urge(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.answer(N_("We have reminded the people handling {ref}."), ref=ticket.ref)
    ctx.reply(N_("We have reminded the people handling {ref}."), ref=ticket.ref)


@desk
async def cancel_request(ctx: Ctx) -> None:
    """An owner withdraws their request before the technician has arrived."""
    ticket = await flow.cancel(ctx.session, ctx.target_id, ctx.person, ctx.now)
    ctx.clear_buttons = True
    ctx.reply(N_("{ref} has been cancelled."), ref=ticket.ref)


def owner_actions(state: str, repair: rp.Repair) -> list[tuple[str, str]]:
    """Buttons an owner gets on their own open repair (see /ticket)."""
    out: list[tuple[str, str]] = []
    if state in rp.OPEN:
        out.append((N_("Urge (催单)"), "urg"))
    if state in rp.cancellable_states(repair):
        out.append((N_("Cancel request"), "cxl"))
    return out


from handlers import repair_staff  # noqa: E402  (registers the staff buttons and forms)

tickets.CARD_BUTTONS["R"] = repair_staff.card_buttons
tickets.CARD_RENDERERS["R"] = repair_staff.render_card
tickets.QUEUE_PLACES["R"] = repair_staff.queue_places
tickets.register_queue_source(rp.work_for)

COMMANDS: dict[str, TgCallback] = {"repair": repair, "report": repair_staff.report}
BUTTONS: dict[str, TgCallback] = {
    r"^r:urg:": urge,
    r"^r:cxl:": cancel_request,
    **repair_staff.BUTTONS,
}
