"""Vacancy applications (空置房申请), the owner's side: the /vacancy form, cancelling early,
answering the end-date reminder, and what /my and /ticket show about the dates and the rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from handlers import forms, labels, tickets
from handlers.base import REFUSALS, Ctx, TgCallback, desk
from handlers.common import require_owner
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.text import take_text
from models import vacancy as vc
from models import vacancy_flow as flow
from models import vacancy_inspection as insp
from models import vacancy_notices as notices
from models.base import N_, DomainError
from models.notification import Msg, msg
from models.property import Unit
from models.queries import VIEW_ROLES
from models.ticket import Kind, Ticket
from models.vacancy_dates import (
    add_months,
    check_period,
    check_start,
    earliest_end,
    id_deadline,
    parse_day,
)

FORM = "vacancy"

labels.register("V", {k.value: v for k, v in vc.STATE_NAMES.items()}, vc.ACTION_NAMES)

REFUSALS.update(
    {
        "vacancy_not_your_unit": N_("You can only apply for a unit you own."),
        "vacancy_own_case": N_(
            "This is your own application: a colleague checks the ID, signs the opinion and "
            "decides on it."
        ),
        "vacancy_unrenovated": N_(
            "Unit {unit} is recorded at the office as not yet renovated: it is already looked "
            "after as a vacant home and inspected every month, so it needs no application "
            "(5.2.1). If it has been renovated, please tell the property office."
        ),
        "vacancy_no_such_date": N_("There is no such date: {text}."),
        "vacancy_start_past": N_("The start date cannot be in the past (today is {today})."),
        "vacancy_start_far": N_("The start date must be no later than {latest}."),
        "vacancy_end_before_start": N_("The end date must be after the start date ({start})."),
        "vacancy_too_short": N_(
            "A vacancy must last more than {months} months (空置时间必须超过三个月). Starting on "
            "{start}, the end date must be {earliest} or later."
        ),
        "vacancy_too_long": N_(
            "A vacancy can be applied for at most {months} months at a time: the end date must "
            "be no later than {latest}."
        ),
        "vacancy_overlap": N_("These dates overlap your application {ref} for the same unit."),
        "vacancy_period_over": N_("The requested period ended on {end}; it cannot be approved."),
    }
)

INTRO = N_(
    "🏠 Vacancy application (空置房申请), for a renovated home that will stay empty. A home "
    "that has not been renovated needs no application (5.2.1); ask the property office if "
    "you are not sure."
)
ASK_DATE = N_("Please type a date such as 2027-03-01 (also 2027/3/1 or 2027年3月1日).")


def _c(step: str, value: str) -> str:
    return choice(FORM, step, value)


def invalid(error: DomainError) -> Invalid:
    """A domain refusal re-asked as a form question, in the same words."""
    return Invalid(REFUSALS.get(error.code, N_("This cannot be done right now.")), **error.params)


def _date_answer(answer: Answer) -> date:
    raw = answer.choice or answer.text
    try:
        day = parse_day(raw or "")
    except DomainError as error:
        raise invalid(error) from None
    if day is None:
        raise Invalid(ASK_DATE)
    return day


async def _applicable(ctx: Ctx) -> tuple[list[Unit], list[Unit]]:
    """The owner's units an application is for, and those marked not yet renovated (5.2.1:
    未装修的不用申请)."""
    units = await vc.owned_units(ctx.session, ctx.person)
    bare = await insp.unrenovated(ctx.session, [u.id for u in units])
    return [u for u in units if u.id not in bare], [u for u in units if u.id in bare]


async def ask_unit(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Which unit will be vacant?"))
    for unit in (await _applicable(ctx))[0]:
        out.button_row((unit.code, _c("unit", str(unit.id))))
    return out


async def take_unit(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    mine = {str(u.id) for u in (await _applicable(ctx))[0]}
    if answer.choice not in mine:
        raise Invalid(N_("Please choose one of the buttons."))
    data["unit_id"] = int(answer.choice or 0)
    return "start"


async def ask_start(ctx: Ctx, data: dict[str, Any]) -> Msg:
    today = ctx.rt.env.calendar.local_date(ctx.now)
    out = msg(N_("From which date will the unit be vacant?"))
    out.add(ASK_DATE)
    options = [today + timedelta(days=1), add_months(today.replace(day=1), 1)]
    if data.get("renew_from") and date.fromisoformat(data["renew_from"]) >= today:
        options.insert(0, date.fromisoformat(data["renew_from"]))
    for day in dict.fromkeys(options):
        out.button_row(("{day}", {"day": day}, _c("start", day.isoformat())))
    return out


async def take_start(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    start = _date_answer(answer)
    policy = ctx.rt.env.vacancy
    try:
        check_start(start, ctx.rt.env.calendar.local_date(ctx.now), policy.max_start_ahead_days)
    except DomainError as error:
        raise invalid(error) from None
    data["start"] = start.isoformat()
    return "end"


async def ask_end(ctx: Ctx, data: dict[str, Any]) -> Msg:
    start = date.fromisoformat(data["start"])
    first = earliest_end(start, ctx.rt.env.vacancy.min_months)
    out = msg(
        N_(
            "Until which date? The vacancy must last more than 3 months: from {start}, the end "
            "date is {earliest} or later. From the end date fees are at 100 % again."
        ),
        start=start,
        earliest=first,
    )
    out.add(ASK_DATE)
    for day in (first, add_months(start, 6), add_months(start, 12)):
        out.button_row(("{day}", {"day": day}, _c("end", day.isoformat())))
    return out


async def take_end(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    end = _date_answer(answer)
    start = date.fromisoformat(data["start"])
    env = ctx.rt.env
    try:
        check_period(
            start,
            end,
            env.calendar.local_date(ctx.now),
            min_months=env.vacancy.min_months,
            max_months=env.vacancy.max_months,
            max_ahead_days=env.vacancy.max_start_ahead_days,
        )
        unit = await vc.owned_unit(ctx.session, ctx.person, int(data["unit_id"]))
        await vc.check_overlap(ctx.session, unit, start, end)
    except DomainError as error:
        raise invalid(error) from None
    data["end"] = end.isoformat()
    return "reason"


async def ask_reason(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("Why will the unit be vacant? For example: working abroad, not yet moved in."))


async def take_reason(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["reason"] = take_text(answer, 2, 300)
    return "precautions"


async def ask_precautions(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Please read the precautions for a vacant unit (5.2.2):"))
    out.add(N_("• Water and electricity will be shut off and the meters read by a technician."))
    out.add(
        N_(
            "• If more than 1 t of water or 5 kWh of electricity is used in a month, the unit "
            "counts as occupied: the vacancy ends and fees return to 100 %."
        )
    )
    out.add(
        N_(
            "• Items left inside remain your responsibility: take valuables with you, close "
            "windows, turn off gas."
        )
    )
    out.add(N_("• The service officer inspects the unit every month."))
    out.add(
        N_(
            "• To cancel early: /my → this application → Cancel. Water and electricity are "
            "then turned back on and fees return to 100 % as of that day."
        )
    )
    return out.button_row(
        (N_("I have read and accept"), _c("precautions", "yes")),
        (N_("Do not apply"), _c("precautions", "no")),
    )


async def take_precautions(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "no":
        data["declined"] = True
        return DONE
    if answer.choice != "yes":
        raise Invalid(N_("Please choose one of the buttons."))
    return "confirm"


async def ask_confirm(ctx: Ctx, data: dict[str, Any]) -> Msg:
    unit = await vc.owned_unit(ctx.session, ctx.person, int(data["unit_id"]))
    out = msg(N_("Please check your application:"))
    out.add(N_("Unit: {unit}"), unit=unit.code)
    out.add(
        N_("Vacant from {start} until {end}"),
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
    )
    out.add(N_("Reason: {text}"), text=data["reason"])
    out.add(N_("Precautions: read and accepted"))
    return out.button_row((N_("Submit"), _c("confirm", "yes")), (N_("Cancel"), _c("confirm", "no")))


async def take_confirm(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "no":
        data["declined"] = True
    elif answer.choice != "yes":
        raise Invalid(N_("Please press Submit or Cancel."))
    return DONE


async def finish(ctx: Ctx, data: dict[str, Any]) -> None:
    if data.get("declined"):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
        return
    try:
        async with ctx.session.begin_nested():
            ticket = await flow.file(
                ctx.session,
                ctx.person,
                int(data["unit_id"]),
                date.fromisoformat(data["start"]),
                date.fromisoformat(data["end"]),
                data["reason"],
                data.get("renews"),
                ctx.now,
                ctx.rt.env,
            )
    except DomainError as refused:
        ctx.reply(invalid(refused).msgid, **refused.params)
        ctx.reply(N_("Nothing was submitted. Send /vacancy to start again."))
        return
    ctx.reply(N_("✅ Your vacancy application has been filed. Reference: {ref}"), ref=ticket.ref)
    ctx.reply(
        N_(
            "Please bring your original ID card to the property office (5.2.1): the "
            "application is processed once the service officer has seen it. It lapses if the "
            "ID has not been shown by {start}."
        ),
        start=ctx.rt.env.calendar.local_date(
            id_deadline(ctx.rt.env.calendar, date.fromisoformat(data["start"]), ctx.now)
        ),
    )


STEPS = {
    "unit": Step(ask_unit, take_unit),
    "start": Step(ask_start, take_start),
    "end": Step(ask_end, take_end),
    "reason": Step(ask_reason, take_reason),
    "precautions": Step(ask_precautions, take_precautions),
    "confirm": Step(ask_confirm, take_confirm),
}
CHANGEABLE = (
    ("unit", N_("Unit")),
    ("start", N_("Start date")),
    ("end", N_("End date")),
    ("reason", N_("Reason")),
)
VACANCY_FORM = forms.register(
    Form(FORM, N_("vacancy application"), "unit", STEPS, finish, "confirm", CHANGEABLE)
)
# The same form for an owner of one unit (or a re-application): it starts at the dates.
DATES_FIRST = replace(VACANCY_FORM, first="start")


@desk
async def vacancy(ctx: Ctx) -> None:
    """/vacancy: apply for vacancy status (owners of a unit only)."""
    if not await require_owner(ctx):
        return
    units, bare = await _applicable(ctx)
    if not units and not bare:
        ctx.reply(REFUSALS["vacancy_not_your_unit"])
        return
    if bare:
        out = Msg()
        for unit in bare:
            out.add(REFUSALS["vacancy_unrenovated"], unit=unit.code)
        ctx.reply(out)
        if not units:
            return
    # 5.2.1: 未装修的不用申请. Said before the first question, so nobody fills in the form
    # (and takes their ID card to the office) for a home that needs no application.
    ctx.reply(INTRO)
    if len(units) == 1:
        await forms.begin(ctx, DATES_FIRST, {"unit_id": units[0].id})
    else:
        await forms.begin(ctx, VACANCY_FORM)


@desk
async def apply_again(ctx: Ctx) -> None:
    """Apply again pressed on the end-date reminder: a new application from the old end."""
    ticket, v = await flow.renewal(ctx.session, ctx.target_id, ctx.person)
    ctx.answer()
    data = {"unit_id": v.unit_id, "renews": ticket.id, "renew_from": v.end_date.isoformat()}
    await forms.begin(ctx, DATES_FIRST, data)


@desk
async def let_end(ctx: Ctx) -> None:
    """Let it end pressed on the end-date reminder."""
    ticket = await flow.let_end(ctx.session, ctx.target_id, ctx.person, ctx.now)
    _, v = await vc.load(ctx.session, ticket.id)
    ctx.clear_buttons = True
    ctx.reply(
        N_("Noted: {ref} ends on {end}, and fees are at 100 % as of that day."),
        ref=ticket.ref,
        end=v.end_date,
    )


@desk
async def ask_cancel(ctx: Ctx) -> None:
    """Cancel pressed on the owner's application: say what it means, ask to confirm."""
    today = ctx.rt.env.calendar.local_date(ctx.now)
    ticket, out = await flow.cancel_terms(ctx.session, ctx.target_id, ctx.person, today)
    ctx.answer()
    out.button_row((N_("Yes, cancel it"), notices.data("cxy", ticket)))
    ctx.reply(out)


@desk
async def cancel(ctx: Ctx) -> None:
    """The owner confirms the cancellation."""
    ticket = await flow.cancel(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.clear_buttons = True
    if ticket.state == vc.St.RESTORE:
        ctx.reply(
            N_("{ref} is cancelled. A technician will turn water and electricity back on."),
            ref=ticket.ref,
        )
    else:
        ctx.reply(N_("{ref} has been cancelled."), ref=ticket.ref)


async def card_details(ctx: Ctx, ticket: Ticket) -> Msg:
    """The dates and the unit's fee rate today, under the application's title. The rate today
    is the unit's, whoever's application makes it: a former owner (``units unbind``) sees only
    their own application's dates, not whether the new owner's flat stands empty."""
    _, v = await vc.load(ctx.session, ticket.id)
    works_on_it = any(ctx.person.has_role(r, v.building) for r in VIEW_ROLES[Kind.VACANCY])
    if not works_on_it and not await notices.still_owner(ctx.session, ticket, v):
        return notices.rate_lines(v, None)  # (a guard who once owned the flat: no more)
    today = ctx.rt.env.calendar.local_date(ctx.now)
    rate, _, _ = await vc.fee_rate(ctx.session, v.unit_id, today, ctx.rt.env)
    return notices.rate_lines(v, rate)


from handlers import vacancy_rounds, vacancy_staff  # noqa: E402  (staff buttons and commands)

tickets.CARD_BUTTONS["V"] = vacancy_staff.card_buttons
tickets.CARD_DETAILS["V"] = card_details
tickets.register_queue_source(vc.work_for)

COMMANDS: dict[str, TgCallback] = {"vacancy": vacancy, **vacancy_rounds.COMMANDS}
BUTTONS: dict[str, TgCallback] = {
    r"^v:again:": apply_again,
    r"^v:let:": let_end,
    r"^v:cxl:": ask_cancel,
    r"^v:cxy:": cancel,
    **vacancy_staff.BUTTONS,
    **vacancy_rounds.BUTTONS,
}
