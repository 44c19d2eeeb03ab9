"""Checking what people type: every answer is cleaned and bounded before it is stored."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from handlers.base import Ctx
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice, register
from models.base import INVISIBLE, N_
from models.notification import Msg, msg


def clean_text(raw: str) -> str:
    """Drop control and zero-width characters, keep line breaks, trim each line."""
    text = INVISIBLE.sub("", raw)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def take_text(answer: Answer, minimum: int, maximum: int) -> str:
    """A text answer of `minimum`..`maximum` characters, or Invalid with the reason."""
    if answer.text is None:
        raise Invalid(N_("Please answer with text."))
    text = clean_text(answer.text)
    if text.startswith("/"):
        raise Invalid(N_("Please answer the question, or send /cancel to stop."))
    if len(text) < minimum:
        raise Invalid(N_("That is too short: please write at least {n} characters."), n=minimum)
    if len(text) > maximum:
        raise Invalid(N_("That is too long: please keep it under {n} characters."), n=maximum)
    return text


def take_decimal(
    answer: Answer, low: Decimal, high: Decimal, *, allow_zero: bool = False
) -> Decimal:
    """A number with at most two decimals within [low, high]."""
    if answer.text is None:
        raise Invalid(N_("Please send a number, for example 12.50."))
    raw = unicodedata.normalize("NFKC", clean_text(answer.text))  # full-width digits too
    raw = raw.replace(",", "").replace("¥", "").replace("元", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Invalid(N_("Please send a number, for example 12.50.")) from None
    if not value.is_finite():
        raise Invalid(N_("Please send a number, for example 12.50."))
    # (the range first: quantizing 1e30 to cents is beyond Decimal's precision)
    if value < low or value > high or (value == 0 and not allow_zero):
        raise Invalid(N_("Please send a number between {low} and {high}."), low=low, high=high)
    if value != value.quantize(Decimal("0.01")):
        raise Invalid(N_("Please use at most two decimal places."))
    return value


# --- forms of short text answers (shared by every flow's staff side) --------------------------

Field = tuple[str, str, int, str | None]  # key, prompt, minimum length, skip label
Finish = Callable[[Ctx, dict[str, Any], str], Awaitable[None]]


def text_form(
    name: str,
    fields: list[Field],
    done: Callable[[Ctx, dict[str, Any]], Awaitable[None]],
    *,
    maximum: int = 1000,
) -> Form:
    """A form of short text answers, each optionally skippable with a button. Prompts may
    use {ref} (the draft's ``ref``)."""

    def step(index: int) -> Step:
        key, prompt, minimum, skip = fields[index]
        after = fields[index + 1][0] if index + 1 < len(fields) else DONE

        async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
            out = msg(prompt, ref=data.get("ref", ""))
            if skip and not data.get("no_skip"):
                out.button_row((skip, choice(name, key, "skip")))
            return out

        async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
            if skip and not data.get("no_skip") and answer.choice == "skip":
                data[key] = ""
            else:
                data[key] = take_text(answer, minimum, maximum)
            return after

        return Step(ask, take)

    steps = {f[0]: step(i) for i, f in enumerate(fields)}
    return register(Form(name, N_("note"), fields[0][0], steps, done))


def note_form(
    name: str,
    prompt: str,
    finish: Finish,
    *,
    minimum: int = 2,
    maximum: int = 500,
    skip: str | None = None,
) -> Form:
    """A one-question form whose answer is a short text (or a skip button)."""

    async def done(ctx: Ctx, data: dict[str, Any]) -> None:
        await finish(ctx, data, data["note"])

    return text_form(name, [("note", prompt, minimum, skip)], done, maximum=maximum)
