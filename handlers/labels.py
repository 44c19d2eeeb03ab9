"""Names of states and history actions as people read them. Flows add their own."""

from __future__ import annotations

from models.notification import N_, Msg

STATES: dict[str, str] = {}
ACTIONS: dict[str, str] = {"created": N_("created")}
KINDS: dict[str, str] = {
    "R": N_("Repair"),
    "C": N_("Complaint"),
    "S": N_("Suggestion"),
    "V": N_("Vacancy application"),
    "L": N_("Lost-item claim"),
    "F": N_("Found item"),
}


def state(code: str) -> Msg | str:
    return Msg().add(STATES[code]) if code in STATES else code


def action(code: str) -> Msg | str:
    return Msg().add(ACTIONS[code]) if code in ACTIONS else code


def kind(code: str) -> Msg | str:
    return Msg().add(KINDS[code]) if code in KINDS else code
