"""Exporting the inventory as one Firestop YAML file that imports back to the same state."""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy.orm import Session

from firestop.inventory.authority import assignment_entry, list_assignments, list_rules, rule_entry
from firestop.inventory.entries import every, person_entry, system_entry, team_entry, vendor_entry
from firestop.inventory.models import Person, System, Team, Vendor
from firestop.inventory.schemas import Entry


def _dump(entry: Entry) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude_defaults=True)


def export_document(db: Session) -> dict[str, Any]:
    """The whole inventory as a Firestop document that imports back to the same state."""
    return {
        "version": 1,
        "teams": [_dump(team_entry(t)) for t in every(db, Team)],
        "people": [_dump(person_entry(p)) for p in every(db, Person)],
        "vendors": [_dump(vendor_entry(v)) for v in every(db, Vendor)],
        "systems": [_dump(system_entry(s)) for s in every(db, System)],
        "assignments": [_dump(assignment_entry(a)) for a in list_assignments(db)],
        "authority": [_dump(rule_entry(r)) for r in list_rules(db)],
    }


class _Dumper(yaml.SafeDumper):
    """Safe YAML with multi-line text written as literal blocks, as a person would."""


# YAML 1.1 also breaks lines at these; PyYAML's emitter mangles them outside double quotes.
_ODD_BREAKS = frozenset("\x85\u2028\u2029")


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    if not _ODD_BREAKS.isdisjoint(value):
        style = '"'
    elif "\n" in value:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)

HEADER = "# Firestop inventory: import with `firestop inventory import FILE`.\n"


def dump_yaml(document: dict[str, Any]) -> str:
    """YAML that reads back to exactly ``document``, laid out for people to edit."""
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def export_yaml(db: Session) -> str:
    return HEADER + dump_yaml(export_document(db))
