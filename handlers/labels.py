"""Names of states and history actions as people read them.

Flows register theirs per ticket kind (`register`), because the same code means different
things in different flows ("new" is a repair waiting for dispatch but a complaint waiting to
be recorded). The flat dictionaries hold names shared by every kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from models.notification import N_, Msg

STATES: dict[str, str] = {}
ACTIONS: dict[str, str] = {"created": N_("created")}
_STATES_BY_KIND: dict[tuple[str, str], str] = {}
_ACTIONS_BY_KIND: dict[tuple[str, str], str] = {}
KINDS: dict[str, str] = {
    "R": N_("Repair"),
    "C": N_("Complaint"),
    "S": N_("Suggestion"),
    "V": N_("Vacancy application"),
    "L": N_("Lost-item claim"),
    "F": N_("Found item"),
}


def register(
    kinds: Iterable[str],
    states: Mapping[str, str] | None = None,
    actions: Mapping[str, str] | None = None,
) -> None:
    """Names of a flow's states and actions, for its ticket kinds."""
    for kind_code in kinds:
        for code, name in (states or {}).items():
            _STATES_BY_KIND[(kind_code, str(code))] = name
        for code, name in (actions or {}).items():
            _ACTIONS_BY_KIND[(kind_code, str(code))] = name


def _named(code: str, kind_code: str | None, by_kind: dict[tuple[str, str], str],
           shared: dict[str, str]) -> Msg | str:  # fmt: skip
    name = by_kind.get((kind_code or "", code)) or shared.get(code)
    return Msg().add(name) if name else code


def state(code: str, kind_code: str | None = None) -> Msg | str:
    return _named(code, kind_code, _STATES_BY_KIND, STATES)


def action(code: str, kind_code: str | None = None) -> Msg | str:
    return _named(code, kind_code, _ACTIONS_BY_KIND, ACTIONS)


def kind(code: str) -> Msg | str:
    return Msg().add(KINDS[code]) if code in KINDS else code
