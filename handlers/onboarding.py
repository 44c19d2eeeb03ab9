"""Binding with a one-time code, /help, /language, /phone and /cancel."""

from __future__ import annotations

from datetime import timedelta

from handlers import forms
from handlers.base import REFUSALS, Ctx, desk
from handlers.common import require_owner
from handlers.menu import help_message
from models.base import DomainError
from models.invite import looks_like_code, redeem, used_by
from models.notification import N_, Msg
from models.property import contact_for, is_registered_owner, normalize_phone, units_of
from models.system import blocked_until, clear, count_failure

LANGUAGES = {"zh_CN": "中文", "en": "English"}


def _roles(ctx: Ctx) -> set[str]:
    return {r.value for r in ctx.person.role_names()}


@desk
async def start(ctx: Ctx) -> None:
    """/start [CODE]: bind to a unit (or a staff record) with a one-time code."""
    if not ctx.args:
        units = [u.code for u in await units_of(ctx.session, ctx.person)]
        if units or ctx.person.is_staff:
            ctx.reply(N_("Welcome back, {name}."), name=ctx.person.name)
            ctx.reply(help_message(bool(units), ctx.person.is_staff, units, _roles(ctx)))
        else:
            ctx.reply(help_message(False, False, []))
        return
    settings = ctx.rt.settings
    key = f"code:{ctx.person.telegram_id}"
    window = timedelta(minutes=settings.code_attempt_window_minutes)
    until = await blocked_until(
        ctx.session, key, ctx.now, settings.code_attempts_per_window, window
    )
    if until is not None:
        ctx.reply(
            N_("Too many wrong codes. Please try again after {time}, or ask the property office."),
            time=until,
        )
        return
    code = ctx.args[0]
    try:
        if not looks_like_code(code):
            raise DomainError("code_unknown")
        async with ctx.session.begin_nested():
            result = await redeem(ctx.session, code, ctx.person, ctx.now)
    except DomainError as refused:
        if refused.code == "code_used" and await used_by(ctx.session, code, ctx.person):
            # Telegram redelivered the /start that already bound them (e.g. after a restart).
            ctx.reply(N_("Welcome back, {name}."), name=ctx.person.name)
            return
        await count_failure(ctx.session, key, ctx.now, window)

        ctx.reply(REFUSALS[refused.code])
        return
    await clear(ctx.session, key)
    person = result.person
    ctx.person = person
    if result.unit is not None:
        name, phone = await contact_for(ctx.session, person, result.unit)
        ctx.reply(
            N_("Welcome, {name}! You are now linked to unit {unit}."),
            name=name,
            unit=result.unit.code,
        )
        if phone is None:  # a tenant or family member: not in the office's register
            ctx.reply(ASK_PHONE)
    else:
        ctx.reply(
            N_("Welcome, {name}! You are now registered as property staff."), name=person.name
        )
    units = [u.code for u in await units_of(ctx.session, person)]
    ctx.reply(help_message(bool(units), person.is_staff, units, _roles(ctx)))


ASK_PHONE = N_(
    "The office has no phone number for you. So that the technician and the front desk can "
    "call you back, please send it like this: /phone 13912345678"
)


@desk
async def phone(ctx: Ctx) -> None:
    """/phone [NUMBER]: the number the office calls this person on. Tenants and family members
    are not in the office's register (`units import`), so a technician or the front desk could
    not reach them; a registered owner's register entry stays what staff see."""
    if not ctx.person.is_staff and not await require_owner(ctx):
        return
    if ctx.args:
        raw = " ".join(ctx.args)
        digits = normalize_phone(raw)
        if digits is None:
            ctx.reply(
                N_(
                    "“{text}” is not a phone number. Please send a mobile number (11 digits) or "
                    "a landline with its area code, like this: /phone 13912345678"
                ),
                text=raw[:40],
            )
            return
        ctx.person.phone = digits
        ctx.reply(N_("Saved: the office will call you on {phone}."), phone=digits)
    elif ctx.person.phone:
        ctx.reply(N_("The office calls you on {phone}."), phone=ctx.person.phone)
        ctx.reply(N_("To change it, send: /phone 13912345678"))
    else:
        ctx.reply(ASK_PHONE)
    for unit in await units_of(ctx.session, ctx.person):
        registered = unit.owner_phone
        if registered and await is_registered_owner(ctx.session, ctx.person.id, unit.id):
            ctx.reply(
                N_(
                    "For unit {unit} the office's register has {phone}; staff call that "
                    "number. To change it there, please tell the front desk."
                ),
                unit=unit.code,
                phone=registered,
            )


@desk
async def help_command(ctx: Ctx) -> None:
    """/help: what this person may do."""
    units = [u.code for u in await units_of(ctx.session, ctx.person)]
    ctx.reply(help_message(bool(units), ctx.person.is_staff, units, _roles(ctx)))


@desk
async def language(ctx: Ctx) -> None:
    """/language: offer 中文 / English."""
    message = Msg().add(N_("Choose your language:"))
    message.button_row(*[(name, f"lang:{code}") for code, name in LANGUAGES.items()])
    ctx.reply(message)


@desk
async def language_chosen(ctx: Ctx) -> None:
    """A press on a language button: remember it, confirm in the new language."""
    query = ctx.update.callback_query
    assert query is not None
    code = (query.data or "").removeprefix("lang:")
    if code not in LANGUAGES:
        ctx.answer(N_("This button is out of date. Nothing was changed."))
        return
    ctx.person.locale = code
    ctx.clear_buttons = True
    ctx.answer(N_("Language: English"))
    ctx.reply(N_("Language: English"))


@desk
async def cancel(ctx: Ctx) -> None:
    """/cancel: leave the form being filled in; nothing of it is saved."""
    if await forms.cancel(ctx):
        ctx.reply(N_("Cancelled. Nothing was submitted."))
    else:
        ctx.reply(N_("There is nothing to cancel."))
