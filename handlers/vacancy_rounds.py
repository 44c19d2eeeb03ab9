"""Vacant units as staff work on them over time: the officer's inspection record, the
supervisor's spot check (5.5) and severe-weather round (5.1.3), the admin's unsold and
basement marks (5.1, 5.4), and the cashier's fee-rate query (5.2.5, 5.2.6)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from handlers import forms
from handlers.base import REFUSALS, Ctx, TgCallback, desk
from handlers.common import require_staff
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.menu import command_roles
from handlers.text import take_text
from handlers.vacancy_meter import (
    COMMAND_STEPS,
    Readings,
    reading_step,
    replacement_steps,
)
from models import vacancy as vc
from models import vacancy_inspection as insp
from models import vacancy_meters as meters
from models import vacancy_notices as notices
from models import vacancy_rounds as rounds
from models.base import N_, DomainError, one_line
from models.notification import Msg, msg
from models.people import Role
from models.property import Unit, unit_by_code
from models.vacancy import St
from models.vacancy_dates import parse_day
from models.vacancy_meters import Usage

SHOWN = 20  # open tasks listed by /inspections, each with its button

REFUSALS.update(
    {
        "vacancy_inspection_done": N_("The inspection of {unit} has already been recorded."),
        "vacancy_spot_not_open": N_("The inspection of {unit} cannot be spot-checked now."),
        "vacancy_mark_kind": N_("Use: /mark_unit UNIT unsold|basement|unfinished|clear"),
        "vacancy_reading_range": N_("A meter reading is a number from 0 to {high}."),
        "vacancy_reading_lower": N_(
            "That is lower than the last reading of this meter ({last}, on {at}). Please "
            "check the meter."
        ),
        "vacancy_reading_jump": N_(
            "That is {diff} more than the last reading ({last}, on {at}), which is not "
            "plausible. Please check the meter."
        ),
        "vacancy_not_technician": N_("{name} is not a technician for this building."),
        "vacancy_same_technician": N_("{ref} is already assigned to {name}."),
        "vacancy_assignee_changed": N_(
            "{ref} has been given to {name} since this list was made. Nothing was changed: "
            "open /ticket {ref} for a fresh list."
        ),
        "vacancy_already_sent": N_(
            "{ref} has already been sent to {name}. Nothing was changed; to give it to "
            "someone else, use Dispatch / reassign on /ticket {ref}."
        ),
        "vacancy_not_started": N_(
            "The vacancy begins on {start}: water and electricity are shut off from that day "
            "(5.2.8), not before. Until then the owner may still live there."
        ),
    }
)


# --- the officer's inspection ------------------------------------------------------------------


async def _check_inspection_reading(
    ctx: Ctx, data: dict[str, Any], meter: str, value: Decimal
) -> None:
    await rounds.check_reading(ctx.session, data["task"], ctx.person, meter, value, ctx.rt.env)


async def _accept_inspection_reading(
    ctx: Ctx, data: dict[str, Any], meter: str, value: Decimal
) -> str:
    data[meter] = str(value)
    if meter == "water":
        return "electricity"
    if (await _would_end(ctx, data))[1] is not None:
        return "use"
    return "condition"


async def _inspection_unit(ctx: Ctx, data: dict[str, Any]) -> Unit:
    task = await insp.task(ctx.session, data["task"])
    unit = await ctx.session.get(Unit, task.unit_id)
    if unit is None:
        raise DomainError("stale")
    return unit


INSPECTION_READINGS = Readings(
    "v_ins", _check_inspection_reading, _accept_inspection_reading, _inspection_unit
)


def _meter_step(meter: str, prompt: str) -> Step:
    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        return msg(prompt, unit=data.get("unit", ""))

    return reading_step(INSPECTION_READINGS, meter, ask)


async def _would_end(ctx: Ctx, data: dict[str, Any]) -> tuple[Usage, str | None]:
    """The consumption the typed readings show, and the vacancy saving them would end."""
    return await rounds.consumption_check(
        ctx.session,
        data["task"],
        ctx.person,
        Decimal(data["water"]),
        Decimal(data["electricity"]),
        ctx.now,
        ctx.rt.env,
    )


async def _ask_use(ctx: Ctx, data: dict[str, Any]) -> Msg:
    used, ref = await _would_end(ctx, data)
    out = msg(
        N_(
            "{unit}: used since the last reading ({since}): {values}. That is over the limits "
            "of 1 t of water and 5 kWh of electricity a month (5.2.6): saving it ends vacancy "
            "{ref} as occupied, fees go back to 100 % and the owner and the cashier are told. "
            "Are the readings right?"
        ),
        unit=data.get("unit", ""),
        since=used.since,
        values=notices.readings(used.water, used.electricity),
        ref=ref or "—",
    )
    return out.button_row(
        (N_("Readings are right"), choice("v_ins", "use", "yes")),
        (N_("Enter again"), choice("v_ins", "use", "again")),
    )


async def _take_use(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "again":
        return "water"
    if answer.choice != "yes":
        raise Invalid(N_("Please choose one of the buttons."))
    return "condition"


async def _ask_condition(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(
        N_(
            "{unit}: condition of the facilities, cleanliness and the building (cracks, leaks, "
            "dripping taps)? Press the button if all is in order, or describe the problem."
        ),
        unit=data.get("unit", ""),
    )
    return out.button_row((N_("All in order"), choice("v_ins", "condition", "ok")))


async def _take_condition(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "ok":
        data["problem"], data["condition"] = False, ""
    else:
        data["problem"], data["condition"] = True, take_text(answer, 3, 500)
    return DONE


async def _inspection_done(ctx: Ctx, data: dict[str, Any]) -> None:
    task, used, ended = await rounds.record(
        ctx.session,
        data["task"],
        ctx.person,
        Decimal(data["water"]),
        Decimal(data["electricity"]),
        data["condition"],
        bool(data["problem"]),
        ctx.now,
        ctx.rt.env,
    )
    out = msg(
        N_("Inspection of {unit} recorded: {values}."),
        unit=task.unit.code,
        values=notices.readings(Decimal(data["water"]), Decimal(data["electricity"])),
    )
    if used.since is not None:
        out.add(
            N_("Used since the last reading: {values}."),
            values=notices.readings(used.water, used.electricity),
        )
    if ended:
        out.add(
            N_(
                "The unit is in use: vacancy {ref} has ended, and the owner and the cashier "
                "have been told."
            ),
            ref=ended,
        )
    ctx.reply(out)


INSPECTION_FORM = forms.register(
    Form(
        "v_ins",
        N_("inspection record"),
        "water",
        {
            "water": _meter_step("water", N_("{unit}: water meter reading (t)?")),
            "electricity": _meter_step(
                "electricity", N_("{unit}: electricity meter reading (kWh)?")
            ),
            "use": Step(_ask_use, _take_use),
            "condition": Step(_ask_condition, _take_condition),
            **replacement_steps(INSPECTION_READINGS),
        },
        _inspection_done,
    )
)


@desk
async def inspect(ctx: Ctx) -> None:
    """Inspect pressed on a task: the officer records readings and condition."""
    task = await insp.task(ctx.session, ctx.target_id)
    insp.check_inspector(task, ctx.person)
    ctx.answer()
    await forms.begin(ctx, INSPECTION_FORM, {"task": task.id, "unit": task.unit.code})


# --- the supervisor's spot check ----------------------------------------------------------------


async def _ask_spot(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("Spot check of {unit}: what did you find? Write your note."), unit=data["unit"])


async def _take_spot(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["note"] = take_text(answer, 2, 500)
    return DONE


async def _spot_done(ctx: Ctx, data: dict[str, Any]) -> None:
    task = await rounds.spot_check(
        ctx.session, data["task"], ctx.person, bool(data["ok"]), data["note"], ctx.now
    )
    ctx.reply(N_("Spot check of {unit} recorded."), unit=task.unit.code)


SPOT_FORM = forms.register(
    Form("v_spot", N_("spot check"), "note", {"note": Step(_ask_spot, _take_spot)}, _spot_done)
)


@desk
async def spot(ctx: Ctx) -> None:
    """Spot check pressed (5.5): confirmed or problem found, then a note."""
    if ctx.target_arg not in ("y", "n"):
        raise DomainError("stale")
    task = await insp.task(ctx.session, ctx.target_id)
    if not ctx.person.has_role(Role.SUPERVISOR, task.building):
        raise DomainError("not_allowed")
    if task.done_at is None or task.spot_at is not None:
        raise DomainError("vacancy_spot_not_open", unit=task.unit.code)
    ctx.answer()
    data = {"task": task.id, "unit": task.unit.code, "ok": ctx.target_arg == "y"}
    await forms.begin(ctx, SPOT_FORM, data)


@desk
async def inspections(ctx: Ctx) -> None:
    """/inspections: open inspection tasks; for supervisors, recent ones to spot-check."""
    if not require_staff(ctx):
        return
    me = ctx.person
    out = Msg()
    if me.has_role(Role.SERVICE):
        mine = await insp.open_tasks_for(ctx.session, me)
        out.add(N_("Inspections waiting for you: {count}"), count=len(mine))
        cal = ctx.rt.env.calendar
        listed = Counter(task.unit_id for task in mine[:SHOWN])
        for task in mine[:SHOWN]:
            out.lines += rounds.task_line(task).lines
            if listed[task.unit_id] > 1:
                # (one visit records them all, but the buttons must not look the same)
                label = N_("Inspect {unit} (due {due})")
                params = {"unit": task.unit.code, "due": cal.local_date(task.round.due_at)}
            else:
                label, params = N_("Inspect {unit}"), {"unit": task.unit.code}
            out.button_row((label, params, f"v:ins:{task.id}"))
        if len(mine) > SHOWN:
            out.add(N_("… and {count} more."), count=len(mine) - SHOWN)
    if me.has_role(Role.SUPERVISOR):
        since = ctx.now - timedelta(days=31)
        done = await insp.to_spot_check(ctx.session, since, me.role_buildings(Role.SUPERVISOR))
        out.add(N_("Inspections of the last month to spot-check (5.5): {count}"), count=len(done))
        for task in done:
            rounds.spot_lines(out, task)
    if not out.lines:
        out.add(N_("This command is for service officers and supervisors."))
    ctx.reply(out)


@desk
async def weather_alert(ctx: Ctx) -> None:
    """/weather_alert [note]: a supervisor orders a full inspection round today (5.1.3)."""
    if not require_staff(ctx):
        return
    note = one_line(" ".join(ctx.args))[:200] or None
    rnd, tasks = await rounds.weather_alert(ctx.session, ctx.person, note, ctx.now, ctx.rt.env)
    if not tasks:
        ctx.reply(N_("There are no vacant, unsold, unrenovated or basement units to inspect."))
        return
    ctx.reply(
        N_("⛈ Severe-weather inspection ordered: {count} units, to be done by {due}."),
        count=len(tasks),
        due=rnd.due_at,
    )


# --- the admin's marks, the cashier's query -------------------------------------------------------


@desk
async def mark_unit(ctx: Ctx) -> None:
    """/mark_unit UNIT unsold|basement|unfinished|clear: units inspected like vacant ones
    (admin)."""
    if not require_staff(ctx):
        return
    if not ctx.person.has_role(Role.ADMIN):
        raise DomainError("not_allowed")
    if not ctx.args:
        marks = await insp.marked_units(ctx.session)
        out = msg(N_("Units inspected monthly without an application: {count}"), count=len(marks))
        for mark in marks:
            out.add(
                N_("• {unit} ({reason})"), unit=mark.unit.code, reason=msg(insp.MARKS[mark.kind])
            )
        ctx.reply(out.add(N_("Use: /mark_unit UNIT unsold|basement|unfinished|clear")))
        return
    if len(ctx.args) != 2 or ctx.args[1].lower() not in (*insp.MARKS, "clear"):
        raise DomainError("vacancy_mark_kind")
    unit = await unit_by_code(ctx.session, ctx.args[0][:64])
    if unit is None:
        ctx.reply(N_("There is no unit {unit}."), unit=ctx.args[0][:64])
        return
    kind = ctx.args[1].lower()
    await insp.set_mark(ctx.session, unit, None if kind == "clear" else kind, ctx.person, ctx.now)
    if kind == "clear":
        ctx.reply(N_("{unit} is no longer inspected without an application."), unit=unit.code)
    else:
        out = msg(
            N_("{unit} is marked {reason}: it gets the monthly inspection."),
            unit=unit.code,
            reason=msg(insp.MARKS[kind]),
        )
        if kind == insp.UNRENOVATED:
            out.add(N_("Its owner needs no vacancy application (5.2.1: 未装修的不用申请)."))
            for ticket in await insp.running_vacancies(ctx.session, unit.id):
                out.add(
                    N_(
                        "Note: vacancy application {ref} for this unit is still open ({state}); "
                        "it goes on until it ends or the owner cancels it."
                    ),
                    ref=ticket.ref,
                    state=msg(vc.STATE_NAMES[St(ticket.state)]),
                )
        ctx.reply(out)


@desk
async def fee_rate(ctx: Ctx) -> None:
    """/fee_rate UNIT [DATE]: property fee and shared utilities rate on a day (staff)."""
    if not require_staff(ctx):
        return
    if not ctx.args or len(ctx.args) > 2:
        ctx.reply(N_("Use: /fee_rate UNIT [DATE], for example /fee_rate 1-2-301 2027-01-15"))
        return
    unit = await unit_by_code(ctx.session, ctx.args[0][:64])
    if unit is None:
        ctx.reply(N_("There is no unit {unit}."), unit=ctx.args[0][:64])
        return
    # Whether a flat stands empty, and until when, is for the staff who bill and look after
    # it, for its building: not for every guard or technician.
    if not any(ctx.person.has_role(Role(r), unit.building.code) for r in command_roles("fee_rate")):
        raise DomainError("not_allowed")
    day: date | None = ctx.rt.env.calendar.local_date(ctx.now)
    if len(ctx.args) == 2:
        day = parse_day(ctx.args[1][:20])
    if day is None:
        ctx.reply(N_("Use: /fee_rate UNIT [DATE], for example /fee_rate 1-2-301 2027-01-15"))
        return
    rate, ticket, v = await vc.fee_rate(ctx.session, unit.id, day, ctx.rt.env)
    out = msg(
        N_("Unit {unit} on {day}: property fee and shared utilities at {rate} %."),
        unit=unit.code,
        day=day,
        rate=rate,
    )
    if ticket is not None and v is not None:
        out.add(
            N_("Vacancy {ref}: 50 %, {start} until {end}."),
            ref=ticket.ref,
            start=v.half_from,
            end=v.half_until,
        )
    ctx.reply(out)


# --- a meter replaced ------------------------------------------------------------------------


async def _replacement_saved(ctx: Ctx, data: dict[str, Any]) -> None:
    return None  # (written when it was confirmed: see handlers/vacancy_meter.py)


REPLACEMENT_FORM = forms.register(
    Form("v_mr", N_("meter replacement"), "meter", COMMAND_STEPS, _replacement_saved)
)


@desk
async def meter_replaced(ctx: Ctx) -> None:
    """/meter_replaced UNIT: the building's service officer or supervisor records a water or
    electricity meter replaced: the old one's final reading and the new one's starting
    reading, the baseline later readings are checked against (5.2.6)."""
    if not require_staff(ctx):
        return
    if len(ctx.args) != 1:
        ctx.reply(N_("Use: /meter_replaced UNIT, for example /meter_replaced 1-2-301"))
        return
    unit = await unit_by_code(ctx.session, ctx.args[0][:64])
    if unit is None:
        ctx.reply(N_("There is no unit {unit}."), unit=ctx.args[0][:64])
        return
    if not rounds.may_replace(ctx.person, unit.building.code):
        raise DomainError("not_allowed")
    if await meters.last_reading(ctx.session, unit.id) is None:
        raise DomainError("vacancy_no_reading")
    await forms.begin(ctx, REPLACEMENT_FORM, {"unit": unit.code, "unit_id": unit.id})


COMMANDS: dict[str, TgCallback] = {
    "meter_replaced": meter_replaced,
    "weather_alert": weather_alert,
    "inspections": inspections,
    "mark_unit": mark_unit,
    "fee_rate": fee_rate,
}
BUTTONS: dict[str, TgCallback] = {r"^v:ins:": inspect, r"^v:spot:": spot}
