"""Meter readings typed into the staff forms of a vacancy, and a meter replaced (5.1.2, 5.2.4,
5.2.6): a reading lower than the last one is asked about ("was the meter replaced?") rather
than only refused, and the building's service officer or supervisor records the replacement
there, or with /meter_replaced UNIT; the new meter's starting reading becomes the baseline.

The replacement is written at its confirmation, in a savepoint: a refusal then (another
reading came first) writes nothing and asks again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from handlers.base import REFUSALS, Ctx
from handlers.forms import DONE, Answer, Invalid, Step, choice
from handlers.text import take_decimal
from models import vacancy_meters as meters
from models import vacancy_rounds as rounds
from models.base import N_, DomainError
from models.notification import Msg, msg
from models.people import Role
from models.property import Unit
from models.vacancy_meters import READING_MAX

REFUSED = N_("This cannot be done right now.")

REFUSALS.update(
    {
        "vacancy_no_reading": N_(
            "No meter reading of this unit is on record yet: there is no replacement to "
            "record. The new meter's reading is simply the first one."
        ),
        "vacancy_final_lower": N_(
            "The old meter's final reading cannot be lower than its last recorded reading "
            "({last}, on {at}). Please check it."
        ),
        "vacancy_start_above": N_(
            "The new meter cannot have started at {new}: you have just read {reading} on it. "
            "Please check both readings."
        ),
        "vacancy_start_jump": N_(
            "That would be {diff} on the new meter since it was fitted at {new}, which is not "
            "plausible. Please check both readings."
        ),
    }
)


def reading_invalid(error: DomainError) -> Invalid:
    return Invalid(REFUSALS.get(error.code, REFUSED), **error.params)


def take_reading(answer: Answer) -> Decimal:
    """A meter reading: a number of at most two decimals, 0 to 999999.99."""
    return take_decimal(answer, Decimal(0), READING_MAX, allow_zero=True)


@dataclass
class Readings:
    """How a form takes its meter readings: `check` a typed value (raises DomainError),
    `accept` it (stores it, returns the next step), the `unit` it is of."""

    form: str
    check: Callable[[Ctx, dict[str, Any], str, Decimal], Awaitable[None]]
    accept: Callable[[Ctx, dict[str, Any], str, Decimal], Awaitable[str]]
    unit: Callable[[Ctx, dict[str, Any]], Awaitable[Unit]]


def _params(mr: dict[str, Any], *numbers: str) -> dict[str, Any]:
    """The unit, the meter, when it was last read and the readings `numbers`, for a message."""
    out: dict[str, Any] = {"unit": mr["unit"], "meter": msg(rounds.METER_NAMES[mr["meter"]])}
    for key in numbers:
        out[key] = Decimal(mr[key])
    return out


def _at(mr: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(mr["at"])


def reading_step(
    r: Readings, meter: str, ask: Callable[[Ctx, dict[str, Any]], Awaitable[Msg]]
) -> Step:
    """One typed reading; lower than the last one, someone who may record a replacement is
    asked whether the meter was replaced, anyone else told who records it."""

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        value = take_reading(answer)
        try:
            await r.check(ctx, data, meter, value)
        except DomainError as error:
            if error.code != "vacancy_reading_lower":
                raise reading_invalid(error) from None
            unit = await r.unit(ctx, data)
            if not rounds.may_replace(ctx.person, unit.building.code):
                raise Invalid(
                    N_(
                        "That is lower than the last reading of this meter ({last}, on {at}). "
                        "If the meter was replaced, the building's service officer records "
                        "it (/meter_replaced {unit}); then enter the reading again. Otherwise "
                        "please check the meter."
                    ),
                    unit=unit.code,
                    **error.params,
                ) from None
            data["mr"] = {
                "unit": unit.code,
                "unit_id": unit.id,
                "meter": meter,
                "typed": str(value),
                "last": str(error.params["last"]),
                "at": error.params["at"].isoformat(),
                "back": meter,
            }
            return "lower"
        return await r.accept(ctx, data, meter, value)

    return Step(ask, take)


def _lower_step(form: str) -> Step:
    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        out = msg(
            N_(
                "{unit}: {typed} is lower than the last reading of the {meter} ({last}, on "
                "{at}). A meter does not run backwards: was the meter replaced?"
            ),
            at=_at(data["mr"]),
            **_params(data["mr"], "typed", "last"),
        )
        return out.button_row(
            (N_("Yes, the meter was replaced"), choice(form, "lower", "yes")),
            (N_("No, enter it again"), choice(form, "lower", "again")),
        )

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        if answer.choice == "again":
            return str(data.pop("mr")["back"])
        if answer.choice != "yes":
            raise Invalid(N_("Please choose one of the buttons."))
        return "old"

    return Step(ask, take)


def _old_step() -> Step:
    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        return msg(
            N_(
                "{unit}: the old {meter}'s final reading, as it was taken out? (Last recorded: "
                "{last}, on {at}.)"
            ),
            at=_at(data["mr"]),
            **_params(data["mr"], "last"),
        )

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        value = take_reading(answer)
        mr = data["mr"]
        try:
            last = await meters.last_reading(ctx.session, int(mr["unit_id"]))
            meters.check_replacement(last, mr["meter"], value, ctx.rt.env)
        except DomainError as error:
            raise reading_invalid(error) from None
        data["mr"] = {**mr, "old": str(value)}  # (a new dict: the draft's own is not changed)
        return "new"

    return Step(ask, take)


def _new_step() -> Step:
    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        return msg(
            N_("{unit}: the new {meter}'s starting reading, as it was fitted?"),
            **_params(data["mr"]),
        )

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        value = take_reading(answer)
        mr = data["mr"]
        if "typed" in mr:
            try:
                meters.check_start(mr["meter"], value, Decimal(mr["typed"]), ctx.rt.env)
            except DomainError as error:
                raise reading_invalid(error) from None
        data["mr"] = {**mr, "new": str(value)}
        return "swap"

    return Step(ask, take)


def _swap_step(form: str, then: Callable[[Ctx, dict[str, Any]], Awaitable[str]]) -> Step:
    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        mr = data["mr"]
        out = msg(
            N_(
                "{unit}, {meter} replaced: the old meter's final reading {old} (last recorded "
                "{last}, on {at}), the new meter's starting reading {new}."
            ),
            at=_at(mr),
            **_params(mr, "old", "last", "new"),
        )
        if "typed" in mr:
            out.add(N_("Reading on the new meter now: {typed}."), typed=Decimal(mr["typed"]))
        unit = await ctx.session.get(Unit, int(mr["unit_id"]))
        building = unit.building.code if unit is not None else None
        if ctx.person.has_role(Role.SUPERVISOR, building):  # (supervisors are not told then)
            out.add(N_("For a running vacancy, the cashier is told. Save it?"))
        else:
            out.add(N_("The supervisor and, for a running vacancy, the cashier are told. Save it?"))
        return out.button_row(
            (N_("Save the replacement"), choice(form, "swap", "yes")),
            (N_("Enter again"), choice(form, "swap", "again")),
        )

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        if answer.choice == "again":
            return "old"
        if answer.choice != "yes":
            raise Invalid(N_("Please choose one of the buttons."))
        mr = data["mr"]
        try:
            async with ctx.session.begin_nested():
                await rounds.replace_meter(
                    ctx.session,
                    int(mr["unit_id"]),
                    ctx.person,
                    mr["meter"],
                    Decimal(mr["old"]),
                    Decimal(mr["new"]),
                    ctx.now,
                    ctx.rt.env,
                )
        except DomainError as error:
            raise reading_invalid(error) from None
        ctx.reply(
            N_(
                "Replacement of the {meter} of {unit} recorded. Later readings are compared "
                "with the new meter's."
            ),
            unit=mr["unit"],
            meter=msg(rounds.METER_NAMES[mr["meter"]]),
        )
        return await then(ctx, data)

    return Step(ask, take)


def replacement_steps(r: Readings) -> dict[str, Step]:
    """The steps a reading form adds for a meter replaced: asked, both readings, saved; then
    the reading typed on the new meter is taken as if it had been accepted at once (it was
    checked against the new meter's starting reading already)."""

    async def then(ctx: Ctx, data: dict[str, Any]) -> str:
        mr = data.pop("mr")
        return await r.accept(ctx, data, mr["meter"], Decimal(mr["typed"]))

    return {
        "lower": _lower_step(r.form),
        "old": _old_step(),
        "new": _new_step(),
        "swap": _swap_step(r.form, then),
    }


# --- /meter_replaced UNIT --------------------------------------------------------------------


async def _ask_meter(ctx: Ctx, data: dict[str, Any]) -> Msg:
    out = msg(N_("Which meter of {unit} was replaced?"), unit=data["unit"])
    return out.button_row(
        (N_("Water meter"), choice("v_mr", "meter", "water")),
        (N_("Electricity meter"), choice("v_mr", "meter", "electricity")),
    )


async def _take_meter(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice not in meters.METERS:
        raise Invalid(N_("Please choose one of the buttons."))
    last = await meters.last_reading(ctx.session, int(data["unit_id"]))
    if last is None:
        raise DomainError("vacancy_no_reading")
    data["mr"] = {
        "unit": data["unit"],
        "unit_id": data["unit_id"],
        "meter": answer.choice,
        "last": str(getattr(last, answer.choice)),
        "at": last.taken_at.isoformat(),
    }
    return "old"


async def _command_done(ctx: Ctx, data: dict[str, Any]) -> str:
    data.pop("mr", None)
    return DONE


COMMAND_STEPS: dict[str, Step] = {
    "meter": Step(_ask_meter, _take_meter),
    "old": _old_step(),
    "new": _new_step(),
    "swap": _swap_step("v_mr", _command_done),
}
