from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.errors import FirestopError
from firestop.policy.schemas import Policy, Route, Sev
from firestop.policy.service import (
    PolicyError,
    assess_severity,
    check_file,
    load_policy,
    suggested_actions,
    validate_tags,
)

POLICY = load_policy(None)


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_shipped_policy_has_the_design_taxonomy() -> None:
    ids = {c.id for c in POLICY.taxonomy.categories}
    assert ids == {
        "confidentiality",
        "insecure_behaviour",
        "harmful_output",
        "integrity",
        "availability",
        "intellectual_property",
        "prohibited_use",
    }
    assert {o.id for o in POLICY.taxonomy.outcomes} == {"near_miss", "not_an_incident"}
    assert [f.id for f in POLICY.severity.factors] == [
        "impact",
        "affected_population",
        "reversibility",
        "data_sensitivity",
        "decision_significance",
        "regulatory",
        "containability",
        "scale",
    ]


def test_severity_names_the_factors_that_drove_it() -> None:
    result = assess_severity(
        POLICY, {"impact": "moderate", "data_sensitivity": "special", "scale": "single"}
    )
    # 3 + 5 points is only SEV3 by score, but special-category data sets a SEV2 floor.
    assert result.score == 8
    assert result.score_level is Sev.SEV3
    assert result.level is Sev.SEV2
    assert result.drivers == ["data_sensitivity"]
    assert "raised to SEV2 because data_sensitivity=special" in result.explanation
    assert "reversibility" in result.unassessed
    assert result.route is Route.incident_team


def test_score_alone_decides_when_no_floor_applies() -> None:
    result = assess_severity(
        POLICY,
        {
            "impact": "moderate",
            "affected_population": "many",
            "reversibility": "partial",
            "decision_significance": "material",
            "scale": "recurring",
        },
    )
    assert result.score == 3 + 4 + 2 + 3 + 2
    assert result.level is Sev.SEV2
    assert result.floor_level is None
    assert result.drivers == ["affected_population", "impact", "decision_significance"]


def test_low_everything_is_logged_and_routed() -> None:
    result = assess_severity(POLICY, {"impact": "minor", "affected_population": "individual"})
    assert result.level is Sev.SEV4
    assert result.route is Route.log_and_route


def test_unknown_factor_or_level_is_named() -> None:
    with pytest.raises(FirestopError) as info:
        assess_severity(POLICY, {"impakt": "major", "impact": "huge"})
    locs = {e.loc: e.msg for e in info.value.errors}
    assert "factors.impakt" in locs and "unknown factor" in locs["factors.impakt"]
    assert "unknown level 'huge'" in locs["factors.impact"]


factor_choices = st.fixed_dictionaries(
    {},
    optional={f.id: st.sampled_from([lv.id for lv in f.levels]) for f in POLICY.severity.factors},
)


@settings(max_examples=120, deadline=None)
@given(factor_choices)
def test_severity_is_monotonic_in_every_factor(factors: dict[str, str]) -> None:
    """Raising any one factor by one level never makes the incident less severe."""
    base = assess_severity(POLICY, factors)
    assert base.score == sum(r.points for r in base.factors)
    for factor in POLICY.severity.factors:
        ids = [lv.id for lv in factor.levels]
        current = factors.get(factor.id)
        if current is None or current == ids[-1]:
            continue
        raised = assess_severity(POLICY, {**factors, factor.id: ids[ids.index(current) + 1]})
        assert raised.level.rank <= base.level.rank


def test_suggested_actions_are_reversible_and_follow_categories() -> None:
    actions = suggested_actions(POLICY, ["confidentiality"])
    assert [a.id for a in actions][:2] == ["block_sensitive_inputs", "remove_connector"]
    assert all(a.reversible for a in actions)


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("owasp-llm:LLM01", True),
        ("owasp-llm:LLM11", False),
        ("owasp-agentic:ASI10", True),
        ("atlas:AML.T0051", True),
        ("atlas:AML.T0051.001", True),
        ("atlas:Prompt Injection", False),
        ("avid:E0101", True),
        ("avid:AVID-2023-V001", True),
        ("nist:foo", False),
        ("LLM01", False),
    ],
)
def test_tags_are_checked_against_their_scheme(tag: str, ok: bool) -> None:
    if ok:
        validate_tags(POLICY, [tag])
    else:
        with pytest.raises(FirestopError):
            validate_tags(POLICY, [tag])


def test_organisation_file_overrides_a_section(tmp_path: Path) -> None:
    doc = {
        "version": "acme-3",
        "severity": {
            **POLICY.severity.model_dump(mode="json"),
            "thresholds": {"SEV1": 30, "SEV2": 20, "SEV3": 2},
        },
    }
    policy = load_policy(write(tmp_path, doc))
    assert policy.version == "acme-3"
    assert policy.taxonomy == POLICY.taxonomy
    assert assess_severity(policy, {"impact": "moderate"}).level is Sev.SEV3


def test_check_names_every_field_and_problem(tmp_path: Path) -> None:
    severity = POLICY.severity.model_dump(mode="json")
    severity["thresholds"] = {"SEV1": 5, "SEV2": 10, "SEV3": 1}
    severity["factors"][0]["levels"][1]["points"] = -2
    severity["factors"][1]["levels"][0]["floor"] = "SEV9"
    taxonomy = POLICY.taxonomy.model_dump(mode="json")
    taxonomy["categories"][0]["suggested_actions"].append("launch_missiles")
    errors = check_file(write(tmp_path, {"severity": severity, "taxonomy": taxonomy, "extra": 1}))
    # unknown top-level sections are reported before anything else
    assert [(e.loc, e.msg.split(";")[0]) for e in errors] == [("extra", "unknown section")]
    errors = check_file(write(tmp_path, {"severity": severity, "taxonomy": taxonomy}))
    by_loc = {e.loc: e.msg for e in errors}
    assert "severity.factors[0].levels[1].points" in by_loc
    assert "greater than or equal to 0" in by_loc["severity.factors[0].levels[1].points"]
    assert "severity.factors[1].levels[0].floor" in by_loc
    assert "severity.thresholds" in by_loc
    assert "SEV1 > SEV2 > SEV3" in by_loc["severity.thresholds"]


def test_cross_references_are_checked(tmp_path: Path) -> None:
    taxonomy = POLICY.taxonomy.model_dump(mode="json")
    taxonomy["categories"][0]["suggested_actions"].append("launch_missiles")
    errors = check_file(write(tmp_path, {"taxonomy": taxonomy}))
    assert len(errors) == 1
    assert "taxonomy.categories[0].suggested_actions[5]: unknown action 'launch_missiles'" in (
        errors[0].msg
    )


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    errors = check_file(write(tmp_path, "version: x\ntaxonomy: [unclosed\n"))
    assert errors[0].loc.startswith("line ")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yaml")


def test_policy_round_trips_through_yaml() -> None:
    again = Policy.model_validate(yaml.safe_load(yaml.safe_dump(POLICY.model_dump(mode="json"))))
    assert again == POLICY
