"""A small form engine for owner conversations whose every step survives a crash.

Each answer is validated, then the draft (step + answers + the update's id) is committed
before the next question is sent. A restarted bot finds the draft and carries on; an update
Telegram delivers twice is answered once. Choices are inline buttons whose data names the
form and the step, so a press on an old question is recognised and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update

from handlers.base import REFUSALS, Ctx
from models.base import DomainError
from models.draft import drop_draft, get_draft, save_draft
from models.notification import N_, Msg, msg

DONE = "__done__"
ABANDONED_AFTER = timedelta(hours=24)

PREFIX = "f"


class Invalid(Exception):
    """The answer cannot be taken; the message says why and the question is asked again."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


@dataclass
class Answer:
    text: str | None = None
    photo: str | None = None
    choice: str | None = None

    @property
    def is_text(self) -> bool:
        return self.text is not None


Ask = Callable[[Ctx, dict[str, Any]], Awaitable[Msg]]
Take = Callable[[Ctx, dict[str, Any], Answer], Awaitable[str]]


@dataclass
class Step:
    ask: Ask
    take: Take


@dataclass
class Form:
    name: str
    title: str  # msgid naming the form, for "you were in the middle of …"
    first: str
    steps: dict[str, Step]
    finish: Callable[[Ctx, dict[str, Any]], Awaitable[None]]


FORMS: dict[str, Form] = {}


def register(form: Form) -> Form:
    FORMS[form.name] = form
    return form


def choice(form: str, step: str, value: str) -> str:
    data = f"{PREFIX}:{form}:{step}:{value}"
    if len(data.encode()) > 64:
        raise ValueError(f"callback data too long: {data}")
    return data


def _update_id(ctx: Ctx) -> int:
    return ctx.update.update_id


async def begin(ctx: Ctx, form: Form, data: dict[str, Any] | None = None) -> None:
    """Start `form` for the person, replacing any unfinished one (they are told)."""
    existing = await get_draft(ctx.session, ctx.person.telegram_id or 0)
    if existing is not None and existing.flow in FORMS and existing.flow != form.name:
        ctx.reply(
            N_("Your unfinished {form} was discarded."),
            form=msg(FORMS[existing.flow].title),
        )
    data = dict(data or {})
    await save_draft(
        ctx.session,
        ctx.person.telegram_id or 0,
        form.name,
        form.first,
        data,
        ctx.now,
        _update_id(ctx),
    )
    ctx.reply(await form.steps[form.first].ask(ctx, data))


def read_answer(update: Update) -> tuple[Answer, tuple[str, str] | None]:
    """The answer in an update and, for a button, the (form, step) it belongs to."""
    query = update.callback_query
    if query is not None:
        parts = (query.data or "").split(":", 3)
        if len(parts) == 4 and parts[0] == PREFIX:
            return Answer(choice=parts[3]), (parts[1], parts[2])
        return Answer(), ("", "")
    message = update.effective_message
    if message is None:
        return Answer(), None
    if message.photo:
        return Answer(photo=message.photo[-1].file_id, text=message.caption), None
    if message.text is not None:
        return Answer(text=message.text), None
    return Answer(), None


async def proceed(ctx: Ctx) -> bool:
    """Feed the update to the person's open form; False when they have none."""
    tg_id = ctx.person.telegram_id or 0
    draft = await get_draft(ctx.session, tg_id)
    if draft is None or draft.flow not in FORMS:
        return False
    if draft.last_update_id is not None and ctx.update.update_id <= draft.last_update_id:
        return True  # already answered before a restart
    form = FORMS[draft.flow]
    if ctx.now - draft.updated_at > ABANDONED_AFTER:
        # Days later a message is not an answer to the old question.
        await drop_draft(ctx.session, tg_id)
        ctx.reply(N_("Your unfinished {form} from {time} was discarded."),
                  form=msg(form.title), time=draft.updated_at)  # fmt: skip
        return False

    step = form.steps.get(draft.step)
    if step is None:
        await drop_draft(ctx.session, tg_id)
        return False
    answer, origin = read_answer(ctx.update)
    if origin is not None and origin != (form.name, draft.step):
        ctx.answer(N_("This button belongs to an earlier question. Nothing was changed."))
        return True
    data = dict(draft.data)
    try:
        next_step = await step.take(ctx, data, answer)
    except Invalid as bad:
        await save_draft(
            ctx.session, tg_id, form.name, draft.step, draft.data, ctx.now, _update_id(ctx)
        )
        ctx.answer(bad.msgid, **bad.params)
        ctx.reply(Msg().add(bad.msgid, **bad.params))
        ctx.reply(await step.ask(ctx, dict(draft.data)))
        return True
    if ctx.update.callback_query is not None:
        ctx.clear_buttons = True
    if next_step == DONE:
        await drop_draft(ctx.session, tg_id)
        replies = len(ctx.replies)
        try:
            async with ctx.session.begin_nested():
                await form.finish(ctx, data)
        except DomainError as refused:
            # Nothing of the form is written; the person is not left stuck at its last step.
            del ctx.replies[replies:]
            ctx.reply(REFUSALS.get(refused.code, N_("This cannot be done right now.")),
                      **refused.params)  # fmt: skip
            ctx.reply(N_("Nothing was submitted."))
        return True

    await save_draft(ctx.session, tg_id, form.name, next_step, data, ctx.now, _update_id(ctx))
    ctx.reply(await form.steps[next_step].ask(ctx, data))
    return True


async def cancel(ctx: Ctx) -> bool:
    return await drop_draft(ctx.session, ctx.person.telegram_id or 0)


def photos_step(
    prompt: str,
    after: Callable[[dict[str, Any]], str],
    *,
    limit: int = 5,
    skip_label: str = N_("Skip photos"),
    step: str = "photos",
) -> Step:
    """Up to `limit` photos, then a button: the same step in every form that takes photos.

    The form's name comes from the draft (``data["form"]``) when a flow runs one step list
    under several form names, else from the button's own form.
    """

    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        count = len(data.get("photos", []))
        out = msg(prompt, max=limit, count=count)
        label = N_("Done with photos") if count else skip_label
        draft = await get_draft(ctx.session, ctx.person.telegram_id or 0)
        form = data.get("form") or (draft.flow if draft else "")
        return out.button_row((label, choice(form, step, "done")))

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        if answer.choice == "done":
            return after(data)
        if answer.photo is None:
            raise Invalid(N_("Please send a photo, or press the button to continue."))
        data["photos"] = [*data.get("photos", []), answer.photo][:limit]
        return after(data) if len(data["photos"]) >= limit else step

    return Step(ask, take)
