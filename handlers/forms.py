"""A small form engine for owner conversations whose every step survives a crash.

Each answer is validated, then the draft (step + answers + the update's id) is committed
before the next question is sent. A restarted bot finds the draft and carries on; an update
Telegram delivers twice is answered once. Choices are inline buttons whose data names the
form and the step, so a press on an old question is recognised and changes nothing.
"""

from __future__ import annotations

import copy
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
BOOK = "_form"  # the engine's own record in a draft's data: the route taken, answers given
CHANGE = "_change"  # the summary's Change button, and the step of the list of answers
BACK = "_back"
CANCEL_HINT = N_("Send /cancel to stop.")


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
    # False: an answer that does not depend on earlier ones (and must not be re-taken, such
    # as "just now"): after a change it is kept as it is.
    recheck: bool = True
    # Called when the person picks this step to change; may clear the old answer and return
    # a line to say so (photos are sent again, not added to).
    restart: Callable[[dict[str, Any]], Msg | None] | None = None


@dataclass
class Form:
    name: str
    title: str  # msgid naming the form, for "you were in the middle of …"
    first: str
    steps: dict[str, Step]
    finish: Callable[[Ctx, dict[str, Any]], Awaitable[None]]
    # The step showing every answer, with Submit. What was typed is then kept in the draft
    # until Submit, to check it again after a change: not for forms that take an ID number.
    summary: str | None = None
    # (step, label msgid) of the answers that can be changed from the summary, in the order
    # they are listed; only those the person was asked on their way there are offered.
    changeable: tuple[tuple[str, str], ...] = ()


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
    ctx.reply(_hinted(await _ask(ctx, form, form.first, data)))


def _hinted(question: Msg, reason: str = "") -> Msg:
    """The question with how to leave the form under it (unless the reason already says)."""
    if "/cancel" in reason:
        return question
    return Msg([*question.lines, (CANCEL_HINT, {})], question.buttons, question.photos)


async def _ask(ctx: Ctx, form: Form, name: str, data: dict[str, Any]) -> Msg:
    """Step `name`'s question; on the summary, the Change button; on a question being
    changed, the answer it had."""
    step = _changes(form) if name == CHANGE else form.steps[name]
    out = await step.ask(ctx, data)
    book = data.get(BOOK) or {}
    if name == form.summary and _changeable(form, data):
        out = Msg(list(out.lines), list(out.buttons), out.photos)
        out.button_row((N_("Change an answer"), choice(form.name, name, CHANGE)))
    elif book.get("fix") == name:
        typed = book["took"].get(name, {}).get("a", {}).get("text")
        if typed:
            out = Msg([*out.lines, (N_("Current answer: {text}"), {"text": typed})],
                      out.buttons, out.photos)  # fmt: skip
    return out


def _changeable(form: Form, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The answers that can be changed: those asked on the way to the summary."""
    route = (data.get(BOOK) or {}).get("path", [])
    return [(name, label) for name, label in form.changeable if name in route]


def _changes(form: Form) -> Step:
    """The list of answers that can be changed, as a step of its own: its buttons are
    refused as old once the person has moved on, like any question's."""

    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        out = msg(N_("Which answer would you like to change?"))
        options = [(label, choice(form.name, CHANGE, name)) for name, label in
                   _changeable(form, data)]  # fmt: skip
        for i in range(0, len(options), 2):
            out.button_row(*options[i : i + 2])
        return out.button_row((N_("Back to the summary"), choice(form.name, CHANGE, BACK)))

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        if answer.choice == BACK and form.summary:
            return form.summary
        if answer.choice not in dict(_changeable(form, data)):
            raise Invalid(N_("Please choose one of the buttons."))
        name = answer.choice or ""
        book = data[BOOK]
        book["fix"], book["walk"] = name, True
        restart = form.steps[name].restart
        said = restart(data) if restart else None
        if said is not None:
            ctx.reply(said)
        return name

    return Step(ask, take)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != BOOK}


def _note(
    form: Form,
    data: dict[str, Any],
    name: str,
    answer: dict[str, Any],
    following: str,
    before: dict[str, Any],
) -> None:
    """Record that step `name` was answered with `answer` and led to `following`: the route
    to the summary, and which answers (data keys) the step wrote."""
    if name in (CHANGE, form.summary):
        return
    book = data.setdefault(BOOK, {"path": [], "took": {}})
    path = book["path"]
    if name in path:
        del path[path.index(name) :]
    path.append(name)
    wrote = {k for k, v in _plain(data).items() if k not in before or before[k] != v}
    keys = set(book["took"].get(name, {}).get("keys", [])) | wrote
    book["took"][name] = {"a": answer, "next": following, "keys": sorted(keys)}
    if book.get("fix") == name:
        del book["fix"]


async def _walk(ctx: Ctx, form: Form, data: dict[str, Any], following: str) -> str:
    """After a change: go on from `following`, keeping each later answer that still holds
    (its step takes it again unchanged), up to the summary, or the first question to ask."""
    book = data[BOOK]
    for _ in range(len(form.steps) + 1):
        if following == form.summary:
            break
        step, done = form.steps.get(following), book["took"].get(following)
        if step is None or done is None:
            return following  # a question the new answer brings in
        if not step.recheck:
            _note(form, data, following, done["a"], done["next"], data)
            following = done["next"]
            continue
        trial = copy.deepcopy(data)
        try:
            after = await step.take(ctx, trial, Answer(**done["a"]))
        except Invalid as bad:
            ctx.reply(Msg().add(bad.msgid, **bad.params))
            return following
        if after in (DONE, following) or _plain(trial) != _plain(data):
            return following  # (what it shows has changed: the fees of another category)
        _note(form, data, following, done["a"], after, data)
        following = after
    else:
        return following
    # Answers to questions no longer on the way (an appointment, after "public area") go.
    route = set(book["path"])
    kept = {k for name in route for k in book["took"].get(name, {}).get("keys", [])}
    for name in [n for n in book["took"] if n not in route]:
        for key in book["took"].pop(name)["keys"]:
            if key not in kept:
                data.pop(key, None)
    book.pop("walk", None)
    return following


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
    form = FORMS[draft.flow]
    if draft.last_update_id is not None and ctx.update.update_id <= draft.last_update_id:
        # Taken already. When it is the very update the draft was last written for, what it
        # answered may never have reached the person (Telegram delivering it again after a
        # crash, or the update retried after a commit whose acknowledgement the connection
        # lost): the question they are at is asked again; nothing changes.
        known = draft.step == CHANGE or draft.step in form.steps
        if ctx.update.update_id == draft.last_update_id and known:
            if ctx.update.callback_query is not None:
                ctx.clear_buttons = True
            ctx.reply(await _ask(ctx, form, draft.step, copy.deepcopy(draft.data)))
        return True
    if ctx.now - draft.updated_at > ABANDONED_AFTER:
        # Days later a message is not an answer to the old question.
        await drop_draft(ctx.session, tg_id)
        ctx.reply(N_("Your unfinished {form} from {time} was discarded."),
                  form=msg(form.title), time=draft.updated_at)  # fmt: skip
        return False

    step = _changes(form) if draft.step == CHANGE else form.steps.get(draft.step)
    if step is None:
        await drop_draft(ctx.session, tg_id)
        return False
    answer, origin = read_answer(ctx.update)
    if origin is not None and origin != (form.name, draft.step):
        ctx.answer(N_("This button belongs to an earlier question. Nothing was changed."))
        return True
    # (a deep copy: the record under BOOK is nested, and the draft's own copy must not change)
    data = copy.deepcopy(draft.data)
    try:
        if draft.step == form.summary and answer.choice == CHANGE and _changeable(form, data):
            next_step = CHANGE
        else:
            next_step = await step.take(ctx, data, answer)
    except Invalid as bad:
        await save_draft(
            ctx.session, tg_id, form.name, draft.step, draft.data, ctx.now, _update_id(ctx)
        )
        ctx.answer(bad.msgid, **bad.params)
        ctx.reply(Msg().add(bad.msgid, **bad.params))
        ctx.reply(_hinted(await _ask(ctx, form, draft.step, dict(draft.data)), bad.msgid))
        return True
    if ctx.update.callback_query is not None:
        ctx.clear_buttons = True
    if form.summary and next_step != DONE:
        given = {k: v for k, v in vars(answer).items() if v is not None}
        _note(form, data, draft.step, given, next_step, draft.data)
        if draft.step != CHANGE and (data.get(BOOK) or {}).get("walk"):
            next_step = await _walk(ctx, form, data, next_step)
    if next_step == DONE:
        data.pop(BOOK, None)
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
    ctx.reply(await _ask(ctx, form, next_step, data))
    return True


async def cancel(ctx: Ctx) -> bool:
    return await drop_draft(ctx.session, ctx.person.telegram_id or 0)


REPLACING_PHOTOS = "photos_replacing"  # draft key: photos being changed, old ones kept so far


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
        draft = await get_draft(ctx.session, ctx.person.telegram_id or 0)
        form = data.get("form") or (draft.flow if draft else "")
        if data.get(REPLACING_PHOTOS):
            # Being changed: the old ones stay until a new one arrives, or are kept.
            out = msg(prompt, max=limit, count=0)
            keep = (N_("Keep the photos sent before ({count})"), {"count": count})
            return out.button_row((*keep, choice(form, step, "done")))
        out = msg(prompt, max=limit, count=count)
        label = N_("Done with photos") if count else skip_label
        return out.button_row((label, choice(form, step, "done")))

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        if answer.choice == "done":
            data.pop(REPLACING_PHOTOS, None)
            return after(data)
        if answer.photo is None:
            raise Invalid(N_("Please send a photo, or press the button to continue."))
        if data.pop(REPLACING_PHOTOS, False):
            data["photos"] = []  # the first new photo replaces the ones sent before
        data["photos"] = [*data.get("photos", []), answer.photo][:limit]
        return after(data) if len(data["photos"]) >= limit else step

    def restart(data: dict[str, Any]) -> Msg | None:
        # Changing the photos means sending them again (one that should go cannot be picked
        # out); until the first new one arrives the old ones stay, so a slip loses nothing.
        count = len(data.get("photos", []))
        if not count:
            return None
        data[REPLACING_PHOTOS] = True
        return msg(N_("The photos you send now replace the {count} sent before."), count=count)

    return Step(ask, take, restart=restart)
