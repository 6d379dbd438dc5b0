"""Filling templates and keeping track of where every planted value ends up.

A record is drafted as a set of *fields* (the system instructions, each message, the output,
each document and tool call), each a list of template chunks. Only when the whole record is
drafted are the fields rendered, in order, so that a planted value's offsets are known exactly
in the final text — the offsets the detectors report are compared against these.

Rendering is the generator's hot path. A chunk that plants nothing is filled by
``str.format_map`` with the renderer as the mapping (the slot loop then runs in C and only a
missing value calls back into Python); only chunks that plant a value are walked slot by slot
to record offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from random import Random

_SLOT = re.compile(r"«(\w+)»")


@dataclass(slots=True, frozen=True)
class Span:
    """A planted value: in field ``path``, characters [start, end), of type ``rule``.

    ``accept`` names other rules that also describe it correctly (a card number written as
    ``card_number: …`` is a payment card and a personal-data field at once).
    """

    path: str
    start: int
    end: int
    rule: str
    accept: tuple[str, ...] = ()

    def matches(self, rule: str) -> bool:
        return rule == self.rule or rule in self.accept


@dataclass(slots=True, frozen=True)
class Planted:
    text: str
    rule: str
    # The labelled part of ``text`` when it is not all of it (the password in a URL).
    start: int = 0
    end: int = -1
    accept: tuple[str, ...] = ()


Filler = Callable[[Random], str]
Planter = Callable[[Random], Planted]
# Ordinary values are drawn from pools made once per corpus: drawing costs one random number,
# where building an order number or a UUID costs tens of microseconds, and 256 variants of each
# are plenty for text that is only there to be ordinary. Planted values are always fresh.
POOL_SIZE = 256


def base_name(name: str, known: Collection[str]) -> str:
    """The filler a slot name refers to: "product2" and "any_product" both mean "product"."""
    base = name.removeprefix("any_")
    if base not in known:
        base = base.rstrip("0123456789")
    return base


class Slots:
    """What slots can hold in one corpus: ordinary pools, planters, compiled templates.

    Each pool is drawn from its own generator seeded by the corpus seed and the slot's name, so
    its contents do not depend on which slot happened to be used first.
    """

    __slots__ = ("compiled", "fill", "plant", "pools", "resolved", "seed")

    def __init__(
        self,
        seed: int,
        fill: dict[str, tuple[str, ...] | Filler],
        plant: dict[str, Planter],
    ) -> None:
        self.seed = seed
        self.fill = fill
        self.plant = plant
        self.pools: dict[str, tuple[str, ...]] = {}
        # slot name → (pool, planter, remember): how to fill it, worked out once per name.
        self.resolved: dict[str, tuple[tuple[str, ...] | None, Planter | None, bool]] = {}
        # template → (format string, or None when it plants; literal/slot parts)
        self.compiled: dict[str, tuple[str | None, list[str]]] = {}

    def pool(self, name: str) -> tuple[str, ...]:
        pool = self.pools.get(name)
        if pool is None:
            source = self.fill[name]
            if isinstance(source, tuple):
                pool = source
            else:
                rng = Random(f"{self.seed}:{name}")
                pool = tuple(source(rng) for _ in range(POOL_SIZE))
            self.pools[name] = pool
        return pool

    def resolve(self, name: str) -> tuple[tuple[str, ...] | None, Planter | None, bool]:
        entry = self.resolved.get(name)
        if entry is None:
            base = base_name(name, self.plant.keys() | self.fill.keys())
            remember = not name.startswith("any_")
            if base in self.plant:
                entry = (None, self.plant[base], remember)
            elif base in self.fill:
                entry = (self.pool(base), None, remember)
            else:
                raise KeyError(f"no filler for slot «{name}»")
            self.resolved[name] = entry
        return entry

    def compile(self, template: str) -> tuple[str | None, list[str]]:
        found = self.compiled.get(template)
        if found is None:
            parts = _SLOT.split(template)
            plants = any(self.resolve(n)[1] is not None for n in parts[1::2])
            fmt = None
            if not plants:
                fmt = "".join(
                    f"{{{part}}}" if j & 1 else part.replace("{", "{{").replace("}", "}}")
                    for j, part in enumerate(parts)
                )
            found = (fmt, parts)
            self.compiled[template] = found
        return found


class Field:
    """One text field of a record being drafted."""

    __slots__ = ("chunks", "sep")

    def __init__(self, sep: str = " ", chunks: list[str] | None = None) -> None:
        self.chunks: list[str] = chunks if chunks is not None else []
        self.sep = sep

    def add(self, template: str) -> Field:
        self.chunks.append(template)
        return self

    def insert(self, rng: Random, template: str) -> None:
        """Put a chunk somewhere among the others, as people mention things mid-message."""
        self.chunks.insert(int(rng.random() * (len(self.chunks) + 1)), template)


class Renderer(dict[str, object]):
    """Fills slots for one record: the same slot name gives the same value within a record.

    Consistency is what real traffic has: the order number the customer types is the one in
    the tool call and in the answer; the e-mail address a CRM returns is the one the model
    repeats. The renderer is the mapping ``format_map`` reads; ``__missing__`` draws a value.
    """

    __slots__ = ("random", "resolved", "rng", "slots", "spans")

    def __init__(self, rng: Random, slots: Slots) -> None:
        super().__init__()
        self.rng = rng
        self.random = rng.random
        self.slots = slots
        self.resolved = slots.resolved
        self.spans: list[Span] = []

    def __missing__(self, name: str) -> object:
        entry = self.resolved.get(name) or self.slots.resolve(name)
        pool, planter, remember = entry
        found: object
        if pool is not None:
            found = pool[int(self.random() * len(pool))]
        else:
            assert planter is not None
            found = planter(self.rng)
        if remember:
            self[name] = found
        return found

    def render(self, field: Field, path: str) -> str:
        out: list[str] = []
        length = 0
        sep = field.sep
        compile_ = self.slots.compile
        for k, chunk in enumerate(field.chunks):
            if k:
                out.append(sep)
                length += len(sep)
            fmt, parts = compile_(chunk)
            if fmt is not None:
                text = fmt.format_map(self) if len(parts) > 1 else chunk
                out.append(text)
                length += len(text)
                continue
            for j, part in enumerate(parts):
                if not j & 1:
                    out.append(part)
                    length += len(part)
                    continue
                value = self[part]
                if isinstance(value, Planted):
                    end = value.end if value.end >= 0 else len(value.text)
                    self.spans.append(
                        Span(path, length + value.start, length + end, value.rule, value.accept)
                    )
                    value = value.text
                assert isinstance(value, str)
                out.append(value)
                length += len(value)
        return "".join(out)
