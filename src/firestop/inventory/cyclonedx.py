"""CycloneDX ML-BOM (1.5, 1.6, 1.7) to inventory systems.

The BOM's ``metadata.component``, when it is an application, is the system; its
``machine-learning-model`` components are the system's models and its ``data`` components the
system's data sources. A BOM that describes models without an application gives one system
per model, with the datasets that model refers to. Real BOMs vary — nested components,
missing optional fields, model cards or none — so only what the mapping needs is required.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from firestop.errors import FieldError, invalid
from firestop.inventory.formats import Parsed, Path
from firestop.inventory.models import Classification
from firestop.inventory.schemas import DataSourceIn, ModelIn

SPEC_VERSIONS = ("1.5", "1.6", "1.7")
# How our entry fields are spelled in a CycloneDX component, for error places.
_BOM_FIELD = {"provider": "publisher", "bom_ref": "bom-ref"}
_ORDER = list(Classification)
E = TypeVar("E", ModelIn, DataSourceIn)


@dataclass
class BomSystem:
    """A system as a BOM describes it: identity, models and data sources, nothing else."""

    slug: str
    name: str
    description: str
    bom_ref: str | None
    purl: str | None
    models: list[ModelIn] = field(default_factory=list)
    data_sources: list[DataSourceIn] = field(default_factory=list)
    # Data sources whose BOM entry gave no classification (recorded as internal).
    unclassified: set[str] = field(default_factory=set)


@dataclass
class Bom:
    spec_version: str
    systems: list[BomSystem]
    warnings: list[str]


@dataclass
class _Found:
    """What the walk over the components collected."""

    models: dict[str, ModelIn] = field(default_factory=dict)  # key: bom-ref or place
    places: dict[str, Path] = field(default_factory=dict)  # model key -> its place
    data: dict[str, DataSourceIn] = field(default_factory=dict)
    unclassified: set[str] = field(default_factory=set)  # data keys without a classification
    links: dict[str, list[str]] = field(default_factory=dict)  # model key -> data keys
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:100].strip("-")


def classify(label: str) -> Classification | None:
    """Map a free-text CycloneDX data classification onto ours; None when it says nothing."""
    text = label.strip().lower()
    if text in Classification.__members__:
        return Classification(text)
    if any(w in text for w in ("restricted", "secret", "special category")):
        return Classification.restricted
    if any(w in text for w in ("confidential", "sensitive", "personal", "pii", "private")):
        return Classification.confidential
    if "public" in text or text == "open":
        return Classification.public
    if "internal" in text:
        return Classification.internal
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _first_name(people: Any) -> str | None:
    if isinstance(people, list) and people and isinstance(people[0], dict):
        return _text(people[0].get("name"))
    return None


def _provider(component: dict[str, Any]) -> str:
    for candidate in (
        component.get("publisher"),
        (component.get("supplier") or {}).get("name")
        if isinstance(component.get("supplier"), dict)
        else None,
        (component.get("manufacturer") or {}).get("name")
        if isinstance(component.get("manufacturer"), dict)
        else None,
        component.get("author"),
        _first_name(component.get("authors")),
        component.get("group"),
    ):
        if _text(candidate):
            return str(candidate).strip()[:500]
    return ""


def translate(parsed: Parsed) -> Bom:
    """The systems a BOM describes; raises with every problem, each naming its place."""
    bom = parsed.data
    assert isinstance(bom, dict)
    if bom.get("bomFormat") != "CycloneDX":
        found = bom.get("bomFormat")
        msg = f"expected 'CycloneDX', found {found!r}" if found is not None else "required"
        raise invalid("the file is not a CycloneDX BOM", [parsed.error(("bomFormat",), msg)])
    spec = bom.get("specVersion")
    if spec not in SPEC_VERSIONS:
        readable = "Firestop reads CycloneDX " + ", ".join(SPEC_VERSIONS)
        msg = "required; " + readable if spec is None else f"{spec!r} is not supported; {readable}"
        raise invalid(
            f"CycloneDX {spec} is not supported" if spec else "the BOM has no specVersion",
            [parsed.error(("specVersion",), msg)],
        )
    found = _Found()
    metadata = bom.get("metadata")
    subject = metadata.get("component") if isinstance(metadata, dict) else None
    application: dict[str, Any] | None = None
    if isinstance(subject, dict):
        if subject.get("type") == "application":
            application = subject
        elif subject.get("type") == "machine-learning-model":
            _component(subject, ("metadata", "component"), parsed, found)
    _walk(bom.get("components"), ("components",), parsed, found)
    _link_dependencies(bom.get("dependencies"), found)
    systems = _systems(application, parsed, found)
    if not found.errors and not systems:
        found.errors.append(
            FieldError(
                "(top level)",
                "the BOM has neither an application in metadata.component nor any "
                "machine-learning-model component; there is no system to import",
            )
        )
    if found.errors:
        raise invalid(
            f"the CycloneDX BOM has {len(found.errors)} error(s); nothing was imported",
            found.errors,
        )
    return Bom(str(spec), systems, found.warnings)


def _walk(components: Any, path: Path, parsed: Parsed, found: _Found) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        found.errors.append(parsed.error(path, "expected a list of components"))
        return
    for i, component in enumerate(components):
        here = (*path, i)
        if not isinstance(component, dict):
            found.errors.append(parsed.error(here, "expected a component object"))
            continue
        kind = component.get("type")
        if not isinstance(kind, str) or not kind:
            found.errors.append(
                parsed.error((*here, "type"), "required: the CycloneDX component type")
            )
        else:
            _component(component, here, parsed, found)
        _walk(component.get("components"), (*here, "components"), parsed, found)


def _component(component: dict[str, Any], here: Path, parsed: Parsed, found: _Found) -> None:
    kind = component["type"]
    if kind not in ("machine-learning-model", "data"):
        return
    name = _text(component.get("name"))
    if name is None:
        found.errors.append(parsed.error((*here, "name"), f"required for a {kind} component"))
        return
    key = _text(component.get("bom-ref")) or str(here)
    if kind == "machine-learning-model":
        version = component.get("version")
        model = _entry(
            ModelIn,
            {
                "name": name,
                "version": str(version) if isinstance(version, str | int | float) else "",
                "provider": _provider(component),
                "bom_ref": _text(component.get("bom-ref")),
                "purl": _text(component.get("purl")),
            },
            parsed,
            here,
            found,
        )
        if model is not None:
            found.models[key] = model
            found.places[key] = here
            found.links[key] = _card_datasets(component, here, parsed, found)
    else:
        _data_source(key, name, component, component.get("data"), here, parsed, found)


def _entry(
    model: type[E], values: dict[str, Any], parsed: Parsed, here: Path, found: _Found
) -> E | None:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            parts: Path = tuple(_BOM_FIELD.get(str(p), p) for p in err["loc"])
            found.errors.append(parsed.error((*here, *parts), err["msg"]))
        return None


def _data_source(
    key: str,
    name: str,
    owner: dict[str, Any],
    data: Any,
    here: Path,
    parsed: Parsed,
    found: _Found,
) -> None:
    """A data component (or an inline dataset of a model card) as one data source."""
    items = [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
    levels = []
    for item in items:
        label = _text(item.get("classification"))
        if label is None:
            continue
        level = classify(label)
        if level is None:
            found.warnings.append(
                f"{name}: data classification {label!r} is not one Firestop knows; "
                "recorded as internal"
            )
            level = Classification.internal
        levels.append(level)
    kind = next((str(i["type"]) for i in items if _text(i.get("type"))), "dataset")
    source = _entry(
        DataSourceIn,
        {
            "name": name,
            "kind": kind,
            "classification": max(levels, key=_ORDER.index, default=Classification.internal),
            "bom_ref": _text(owner.get("bom-ref")),
            "purl": _text(owner.get("purl")),
        },
        parsed,
        here,
        found,
    )
    if source is not None:
        found.data[key] = source
        if not levels:
            found.unclassified.add(key)


def _card_datasets(
    component: dict[str, Any], here: Path, parsed: Parsed, found: _Found
) -> list[str]:
    """The datasets a model card names: references to data components, or inline datasets."""
    card = component.get("modelCard")
    params = card.get("modelParameters") if isinstance(card, dict) else None
    datasets = params.get("datasets") if isinstance(params, dict) else None
    if not isinstance(datasets, list):
        return []
    keys = []
    for j, dataset in enumerate(datasets):
        if not isinstance(dataset, dict):
            continue
        ref = _text(dataset.get("ref"))
        if ref is not None:
            keys.append(ref)
            continue
        name = _text(dataset.get("name"))
        if name is None:
            continue  # an inline dataset without a name says too little to record
        place = (*here, "modelCard", "modelParameters", "datasets", j)
        key = _text(dataset.get("bom-ref")) or str(place)
        _data_source(key, name, dataset, [dataset], place, parsed, found)
        keys.append(key)
    return keys


def _link_dependencies(dependencies: Any, found: _Found) -> None:
    """A model that dependsOn a data component uses it, whether or not its card says so."""
    if not isinstance(dependencies, list):
        return
    for dependency in dependencies:
        if not isinstance(dependency, dict):
            continue
        ref = dependency.get("ref")
        depends_on = dependency.get("dependsOn")
        if isinstance(ref, str) and ref in found.links and isinstance(depends_on, list):
            found.links[ref] += [d for d in depends_on if isinstance(d, str)]


def _unique(sources: list[DataSourceIn], found: _Found, system: str) -> list[DataSourceIn]:
    kept: dict[str, DataSourceIn] = {}
    for source in sources:
        if source.name in kept:
            found.warnings.append(
                f"{system}: data source {source.name!r} appears twice; the first is kept"
            )
        else:
            kept[source.name] = source
    return list(kept.values())


def _models(models: list[ModelIn]) -> list[ModelIn]:
    kept: dict[tuple[str, str], ModelIn] = {}
    for model in models:
        kept.setdefault((model.name, model.version), model)
    return list(kept.values())


def _systems(application: dict[str, Any] | None, parsed: Parsed, found: _Found) -> list[BomSystem]:
    if application is not None:
        here: Path = ("metadata", "component")
        name = _text(application.get("name"))
        if name is None:
            found.errors.append(parsed.error((*here, "name"), "required for the application"))
            return []
        slug = slugify(name) or slugify(_text(application.get("bom-ref")) or "")
        if not slug:
            found.errors.append(
                parsed.error((*here, "name"), f"cannot make a system slug from {name!r}")
            )
            return []
        system = BomSystem(
            slug=slug,
            name=name[:200],
            description=_text(application.get("description")) or "",
            bom_ref=_text(application.get("bom-ref")),
            purl=_text(application.get("purl")),
            models=_models(list(found.models.values())),
        )
        system.data_sources = _unique(list(found.data.values()), found, slug)
        system.unclassified = {found.data[k].name for k in found.unclassified}
        return [system]
    # No application: each model is a system of its own, with the datasets it uses.
    by_slug: dict[str, BomSystem] = {}
    data_keys: dict[str, dict[str, None]] = {}  # system slug -> data keys, in order, once
    only_model = len(found.models) == 1
    for key, model in found.models.items():
        slug = slugify(model.name)
        if not slug:
            found.errors.append(
                parsed.error(
                    (*found.places[key], "name"), f"cannot make a slug from {model.name!r}"
                )
            )
            continue
        system = by_slug.setdefault(
            slug, BomSystem(slug, model.name, "", model.bom_ref, model.purl)
        )
        system.models = _models([*system.models, model])
        keys = list(found.data) if only_model else found.links.get(key, [])
        data_keys.setdefault(slug, {}).update(dict.fromkeys(k for k in keys if k in found.data))
    used = {k for keys in data_keys.values() for k in keys}
    for key, source in found.data.items():
        if key not in used:
            found.warnings.append(
                f"dataset {source.name!r} is not linked to any model and was not imported"
            )
    for slug, system in by_slug.items():
        keys = list(data_keys.get(slug, {}))
        system.data_sources = _unique([found.data[k] for k in keys], found, slug)
        system.unclassified = {found.data[k].name for k in keys if k in found.unclassified}
    return list(by_slug.values())
