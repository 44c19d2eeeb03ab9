"""Everything that is not a flow: role gates, unknown input, group chats, unexpected errors."""

from __future__ import annotations

import logging
import secrets
import time

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import forms
from handlers.base import Ctx, desk, log_update, runtime
from models.base import trace
from models.notification import N_
from models.property import units_of
from models.ticket import parse_reference

log = logging.getLogger(__name__)


async def require_owner(ctx: Ctx) -> bool:
    """True for a person bound to a unit; otherwise tells them how to bind."""
    if await units_of(ctx.session, ctx.person):
        return True
    ctx.reply(
        N_(
            "You are not linked to a unit yet. Ask the property office for your one-time "
            "code, then send /start CODE."
        )
    )
    return False


def require_staff(ctx: Ctx) -> bool:
    if ctx.person.is_staff:
        return True
    ctx.reply(N_("This command is for property staff only."))
    return False


@desk
async def message(ctx: Ctx) -> None:
    """Any text, photo or other message: the open form's answer; else a pasted ticket
    reference is shown as /ticket shows it, and anything else gets a pointer to what works."""
    if await forms.proceed(ctx):
        return
    message = ctx.update.effective_message
    ref = parse_reference(message.text) if message and message.text else None
    if ref is not None:
        # Imported here: handlers.tickets uses this module's role gates.
        from handlers.tickets import show_reference

        await show_reference(ctx, ref)
    elif message is not None and message.photo:
        ctx.reply(
            N_(
                "Photos are taken as part of a request: start one, for example with /repair "
                "or /complain, and send them when it asks for photos."
            )
        )
    elif message is not None and message.text is None:
        ctx.reply(
            N_("I can read only text messages and button presses. /help lists what you can do.")
        )
    else:
        ctx.reply(N_("I did not understand that. /help lists what you can do."))


@desk
async def form_button(ctx: Ctx) -> None:
    """A press on a form's button."""
    if not await forms.proceed(ctx):
        ctx.answer(N_("This button is out of date. Nothing was changed."))
        ctx.clear_buttons = True


@desk
async def unknown_command(ctx: Ctx) -> None:
    """A command the bot does not have."""
    command = (ctx.text.split() or ["/"])[0].split("@")[0][:32]
    ctx.reply(
        N_("I do not know the command {command}. /help lists what you can do."), command=command
    )


@desk
async def stale_button(ctx: Ctx) -> None:
    """A button press nobody handles (old message, forged data)."""
    ctx.answer(N_("This button is out of date. Nothing was changed."), alert=True)


@desk
async def edited_message(ctx: Ctx) -> None:
    """An edit of a message already sent: what it said was read (or acted on) as it was."""
    ctx.reply(
        N_(
            "I read new messages only, not edits, so nothing was changed. Please send the "
            "corrected text as a new message."
        )
    )


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups the bot only posts notices; commands there get a pointer to a private chat."""
    started = time.perf_counter()
    message = update.effective_message
    if message is None or not (message.text or "").startswith("/"):
        log_update(update, "group_message", "ignored", started)
        return
    log_update(update, "group_message", "pointed_to_private", started)
    rt = runtime(context)
    try:
        await message.reply_text(
            rt.i18n.text(N_("Please talk to me in a private chat."), rt.settings.locale)
        )
    except TelegramError as exc:
        log.info("could not answer in group %s: %s", message.chat_id, exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unexpected exception with a short id and give the user that id."""
    error_id = secrets.token_hex(4)
    # Ids only: the update itself may hold what people typed (an ID number, a phone).
    summary = "-"
    if isinstance(update, Update):
        user = update.effective_user
        chat = update.effective_chat
        summary = (
            f"update={update.update_id} user={user.id if user else '-'} "
            f"chat={chat.id if chat else '-'}"
        )
    log.error("error %s while handling %s\n%s", error_id, summary, trace(context.error))

    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    rt = runtime(context)
    user = update.effective_user
    locale = rt.settings.locale
    if user is not None:
        try:
            async with rt.sessions() as session:
                from models.people import person_by_telegram

                person = await person_by_telegram(session, user.id)
                if person and person.locale:
                    locale = person.locale
        except Exception:  # the database may be what failed
            log.warning("error %s: could not read the user's language", error_id)
    text = rt.i18n.text(
        N_(
            "Sorry, something went wrong on our side (error {id}). Please try again; if it "
            "happens again, tell the property office this number."
        ),
        locale,
        id=error_id,
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        else:
            await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("error %s: could not tell the user: %s", error_id, exc)


def _flood_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The flood warning, in the language Telegram reports (no database read while flooded)."""
    rt = runtime(context)
    code = (update.effective_user.language_code or "") if update.effective_user else ""
    locale = "en" if code.startswith("en") else rt.settings.locale
    return rt.i18n.text(
        N_("You are sending messages faster than I can answer. Please wait a moment."), locale
    )


async def flood_notice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Told once when a user's updates are being dropped for coming too fast."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        await context.bot.send_message(chat.id, _flood_text(update, context))
    except TelegramError as exc:
        log.info("could not send the flood notice: %s", exc)


async def flood_toast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A dropped button press is answered, so its spinner stops and the user knows to wait."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(_flood_text(update, context)[:200])
    except TelegramError as exc:
        log.info("could not answer a flooded button press: %s", exc)
