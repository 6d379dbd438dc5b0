"""CycloneDX ML-BOM import: 1.5, 1.6 and 1.7, what maps where, and what is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from firestop.errors import FirestopError
from firestop.inventory import service
from firestop.inventory.cyclonedx import classify, translate
from firestop.inventory.formats import Parsed
from firestop.inventory.models import Classification
from firestop.policy.service import load_policy
from tests.inventory.samples import BOM_15, BOM_16, BOM_17

API = "/api/v1/inventory"
POLICY = load_policy(None)


def _import(db: Session, content: bytes | dict[str, Any], content_type: str | None = None) -> Any:
    if isinstance(content, dict):
        content = json.dumps(content).encode()
    return service.import_document(
        db, content=content, filename=None, content_type=content_type, policy=POLICY
    )


def _bom(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_cyclonedx_17_fixture_imports_over_http(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = {**auth("admin"), "Content-Type": "application/vnd.cyclonedx+json"}
    response = client.post(f"{API}/import", content=BOM_17.read_bytes(), headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["format"], result["spec_version"]) == ("cyclonedx", "1.7")
    assert result["systems"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert any("criticality 'medium'" in w for w in result["warnings"])

    system = client.get(f"{API}/systems/support-triage-service", headers=headers).json()
    assert system["bom_ref"] == "component-support-triage-service"
    assert system["description"].startswith("Fictional application")
    assert system["models"] == [
        {
            "name": "support-ticket-classifier",
            "provider": "Example ML Team",
            "version": "1.0.0",
            "approved": False,
            "bom_ref": "component-support-ticket-classifier",
            "purl": None,
        }
    ]
    assert [(d["name"], d["classification"], d["kind"]) for d in system["data_sources"]] == [
        ("support-ticket-training-data", "internal", "dataset"),
        ("support-ticket-evaluation-data", "internal", "dataset"),
    ]
    again = client.post(f"{API}/import", content=BOM_17.read_bytes(), headers=headers).json()
    assert again["systems"] == {"created": 0, "updated": 0, "unchanged": 1}


def test_cyclonedx_15_nested_components_and_classification(db: Session) -> None:
    result = _import(db, BOM_15.read_bytes())
    assert result.spec_version == "1.5"
    system = service.get_system(db, "fraud-scoring-api")
    assert system.name == "Fraud Scoring API"
    assert system.purl == "pkg:generic/example/fraud-scoring-api@3.2.0"
    models = {m.name: m for m in system.models}
    assert set(models) == {"fraud-xgb", "address-matcher"}  # one nested inside a library
    assert models["fraud-xgb"].provider == "Example Risk Analytics"  # from supplier
    assert models["fraud-xgb"].purl == "pkg:huggingface/example/fraud-xgb@7"
    assert models["address-matcher"].version == ""
    sources = {d.name: d.classification for d in system.data_sources}
    # Confidential and PII: the stricter wins; no classification means internal.
    assert sources == {"card-transactions-2025q3": "confidential", "postcode-directory": "internal"}


def test_cyclonedx_16_without_application_gives_a_system_per_model(db: Session) -> None:
    result = _import(db, BOM_16.read_bytes())
    assert result.systems.created == 2
    assert any("orphan-dataset" in w for w in result.warnings)
    sentiment = service.get_system(db, "sentiment-small")
    assert sentiment.models[0].provider == "Example Labs"  # manufacturer (1.6)
    assert [(d.name, d.classification) for d in sentiment.data_sources] == [
        ("product-reviews", "public")  # inline dataset of the model card
    ]
    churn = service.get_system(db, "churn-predictor")
    assert churn.name == "Churn Predictor"
    assert [(d.name, d.classification) for d in churn.data_sources] == [
        ("crm-export", "restricted")  # linked through dependencies
    ]


def test_reimport_keeps_approval_and_curated_fields(db: Session) -> None:
    _import(db, BOM_17.read_bytes())
    system = service.get_system(db, "support-triage-service")
    system.models[0].approved = True
    system.criticality = "high"
    system.data_sources[0].classification = "confidential"
    db.flush()
    bom = _bom(BOM_17)
    del bom["components"][1]["data"][0]["classification"]  # training data: none given now
    bom["components"][2]["data"][0]["classification"] = "public"  # evaluation data: given
    bom["components"][0]["version"] = "1.1.0"
    new_model = {**bom["components"][0], "version": "1.0.0", "bom-ref": "old-classifier"}
    bom["components"].append(new_model)
    result = _import(db, bom)
    assert result.systems.updated == 1
    system = service.get_system(db, "support-triage-service")
    assert system.criticality == "high"
    assert {(m.version, m.approved) for m in system.models} == {("1.1.0", False), ("1.0.0", True)}
    assert [d.classification for d in system.data_sources] == ["confidential", "public"]


def test_matching_by_purl_updates_a_renamed_system(db: Session) -> None:
    _import(db, BOM_15.read_bytes())
    service.get_system(db, "fraud-scoring-api").slug = "fraud-scoring"
    db.flush()
    result = _import(db, BOM_15.read_bytes())
    assert result.systems.unchanged == 1 and result.systems.created == 0


@pytest.mark.parametrize("version", ["1.4", "1.3", "2.0", 1.5, None])
def test_unsupported_spec_versions_are_refused(db: Session, version: object) -> None:
    bom = _bom(BOM_17)
    if version is None:
        del bom["specVersion"]
    else:
        bom["specVersion"] = version
    with pytest.raises(FirestopError) as caught:
        _import(db, bom)
    assert caught.value.status == 422
    [error] = caught.value.errors
    assert error.loc == "specVersion"
    assert "1.5, 1.6, 1.7" in error.msg
    assert service.list_systems(db) == []


def test_other_bom_formats_are_refused(db: Session) -> None:
    bom = {**_bom(BOM_17), "bomFormat": "SPDX"}
    with pytest.raises(FirestopError) as caught:
        _import(db, bom)
    assert [(e.loc, e.msg) for e in caught.value.errors] == [
        ("bomFormat", "expected 'CycloneDX', found 'SPDX'")
    ]
    declared: dict[str, Any] = {"components": []}
    with pytest.raises(FirestopError) as caught:
        _import(db, declared, "application/vnd.cyclonedx+json")
    assert caught.value.errors[0].loc == "bomFormat"


def test_bad_components_are_named_and_nothing_is_written(db: Session) -> None:
    bom = _bom(BOM_17)
    bom["components"].append({"name": "no-type"})
    bom["components"].append({"type": "machine-learning-model", "version": "1"})
    bom["components"].append("just a string")
    bom["components"][0]["components"] = [{"type": "data", "name": "x" * 300}]
    with pytest.raises(FirestopError) as caught:
        _import(db, bom)
    places = [e.loc for e in caught.value.errors]
    assert places == [
        "components[0].components[0].name",
        "components[3].type",
        "components[4].name",
        "components[5]",
    ]
    assert service.list_systems(db) == []


def test_a_bom_with_nothing_to_import_says_so(db: Session) -> None:
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library"}]}
    with pytest.raises(FirestopError) as caught:
        _import(db, bom)
    assert "no system to import" in caught.value.errors[0].msg


def test_classification_mapping() -> None:
    assert classify("Internal") == Classification.internal
    assert classify("PII") == Classification.confidential
    assert classify("Highly Restricted") == Classification.restricted
    assert classify("TOP SECRET") == Classification.restricted
    assert classify("public") == Classification.public
    assert classify("green") is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
component = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["machine-learning-model", "data", "application", "library"])
        | json_values,
        "name": st.text(max_size=20) | json_values,
        "version": st.text(max_size=5) | json_values,
        "bom-ref": st.text(max_size=5),
        "publisher": json_values,
        "supplier": json_values,
        "data": json_values,
        "modelCard": json_values,
        "components": st.lists(json_values, max_size=2),
    },
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    components=st.lists(component | json_values, max_size=5),
    subject=st.none() | component,
    dependencies=json_values,
)
def test_any_bom_shape_is_translated_or_refused_with_places(
    components: list[Any], subject: Any, dependencies: Any
) -> None:
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.6"}
    bom["components"] = components
    bom["dependencies"] = dependencies
    if subject is not None:
        bom["metadata"] = {"component": subject}
    try:
        result = translate(Parsed(bom, "json"))
    except FirestopError as exc:
        assert exc.status == 422 and exc.errors
        return
    for system in result.systems:
        assert system.slug and system.models is not None
