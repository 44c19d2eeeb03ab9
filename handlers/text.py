"""Checking what people type: every answer is cleaned and bounded before it is stored."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from handlers.forms import Answer, Invalid
from models.base import N_

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def clean_text(raw: str) -> str:
    """Drop control and zero-width characters, keep line breaks, trim each line."""
    text = _INVISIBLE.sub("", raw)
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
    raw = clean_text(answer.text).replace(",", "").replace("，", "").replace("¥", "").strip()
    raw = raw.replace("元", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Invalid(N_("Please send a number, for example 12.50.")) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise Invalid(N_("Please use at most two decimal places."))
    if value < low or value > high or (value == 0 and not allow_zero):
        raise Invalid(N_("Please send a number between {low} and {high}."), low=low, high=high)
    return value
