"""The five AI systems the corpus's traffic comes from, as an inventory and as detector configs.

``inventory()`` is a document ``firestop inventory import`` accepts, so the ingest benchmark can
load the same systems into a real server; ``configs()`` builds the ``SystemConfig`` the content
detectors receive, the way ``firestop.detect.config.build_config`` does from the stored
inventory: the default policy's detector settings overlaid with each system's own.
"""

from __future__ import annotations

from typing import Any

# Tools: (name, destructive). All are ``kind: tool``.
SYSTEMS: tuple[dict[str, Any], ...] = (
    {
        "slug": "support-assistant",
        "name": "Customer support assistant",
        "criticality": "high",
        "models": [
            {"name": "gpt-4o", "provider": "OpenAI", "approved": True},
            {"name": "gpt-4o-mini", "provider": "OpenAI", "approved": True},
            {"name": "gpt-4.1", "provider": "OpenAI", "approved": False},
        ],
        "tools": [
            ("lookup_order", False),
            ("track_shipment", False),
            ("create_ticket", False),
            ("send_email", False),
            ("issue_refund", True),
            ("cancel_order", True),
        ],
        "detectors": {
            "policy_terms": {
                "lists": {
                    "legal_advice": {
                        "terms": ["legal advice", "you should sue", "class action"],
                        "sources": ["output"],
                        "severity": "SEV3",
                    },
                    "competitors": {
                        "terms": ["Alpine Ridge Outfitters", "SummitCo"],
                        "sources": ["output"],
                    },
                }
            }
        },
    },
    {
        "slug": "claims-triage",
        "name": "Claims triage assistant",
        "criticality": "critical",
        "models": [
            {
                "name": "claude-3-5-sonnet",
                "provider": "Amazon Bedrock",
                "version": "20240620",
                "approved": True,
            },
            {"name": "claude-3-opus", "provider": "Amazon Bedrock", "approved": False},
        ],
        "tools": [
            ("get_claim", False),
            ("get_policy", False),
            ("request_documents", False),
            ("schedule_adjuster", False),
            ("update_claim_status", True),
            ("approve_payout", True),
        ],
        "detectors": {
            # Its answers must rest on the retrieved wording and the claim record.
            "ungrounded_citation": {"require_grounding": True},
            "policy_terms": {
                "lists": {
                    "coverage_promises": {
                        "terms": [
                            "guaranteed payout",
                            "definitely covered",
                            "we will pay in full",
                            "your claim is approved",
                        ],
                        "sources": ["output"],
                        "severity": "SEV2",
                    }
                }
            },
        },
    },
    {
        "slug": "code-assistant",
        "name": "Internal coding assistant",
        "criticality": "medium",
        "models": [
            {"name": "gpt-4o", "provider": "Azure OpenAI", "approved": True},
            {"name": "codestral", "provider": "Mistral AI", "version": "2405", "approved": True},
        ],
        "tools": [
            ("read_file", False),
            ("search_code", False),
            ("run_tests", False),
            ("open_pull_request", False),
            ("git_push", True),
            ("delete_branch", True),
            ("run_shell", True),
        ],
        "detectors": {
            "policy_terms": {
                "lists": {"codenames": {"terms": ["Project Bluefin", "Orca-7", "Kestrel Vault"]}}
            }
        },
    },
    {
        "slug": "knowledge-search",
        "name": "Policy knowledge search",
        "criticality": "low",
        "models": [{"name": "gemini-1.5-pro", "provider": "Google", "approved": True}],
        "tools": [
            ("search_kb", False),
            ("web_search", False),
            ("fetch_url", False),
            ("post_message", False),
        ],
        "detectors": {
            "ungrounded_citation": {"require_grounding": True},
            "policy_terms": {
                "lists": {
                    "hr_sensitive": {
                        "terms": [
                            "disciplinary hearing",
                            "performance improvement plan",
                            "redundancy list",
                        ],
                        "sources": ["output"],
                    }
                }
            },
        },
    },
    {
        "slug": "inbox-agent",
        "name": "E-mail assistant",
        "criticality": "medium",
        "models": [{"name": "claude-3-5-haiku", "provider": "Anthropic", "approved": True}],
        "tools": [
            ("read_inbox", False),
            ("create_event", False),
            ("send_email", True),
            ("forward_email", True),
        ],
        "detectors": {
            "policy_terms": {
                "lists": {
                    "payment_changes": {
                        "terms": ["new bank details", "changed our bank account"],
                        "sources": ["tool_result"],
                        "severity": "SEV2",
                    }
                }
            }
        },
    },
)
BY_SLUG = {s["slug"]: s for s in SYSTEMS}


def inventory() -> dict[str, Any]:
    """The corpus systems as a Firestop inventory document (YAML or JSON once dumped)."""
    systems = []
    for spec in SYSTEMS:
        systems.append(
            {
                "slug": spec["slug"],
                "name": spec["name"],
                "criticality": spec["criticality"],
                "models": [dict(m) for m in spec["models"]],
                "tools": [
                    {"name": name, "kind": "tool", "destructive": destructive}
                    for name, destructive in spec["tools"]
                ],
                "detectors": spec["detectors"],
            }
        )
    return {"version": 1, "systems": systems}


def configs() -> dict[str, Any]:
    """``SystemConfig`` by slug, as the detectors receive them in the server."""
    from firestop.detect.base import ModelRef, SystemConfig, ToolRef
    from firestop.policy.service import load_policy

    defaults = load_policy(None).detection.defaults
    out: dict[str, Any] = {}
    for number, spec in enumerate(SYSTEMS, start=1):
        settings: dict[str, dict[str, Any]] = {k: dict(v) for k, v in defaults.items()}
        for detector, own in spec["detectors"].items():
            settings.setdefault(detector, {}).update(own)

        def ref(m: dict[str, Any]) -> ModelRef:
            return ModelRef(m["name"], m.get("provider", ""), m.get("version", ""))

        out[spec["slug"]] = SystemConfig(
            id=number,
            slug=spec["slug"],
            criticality=spec["criticality"],
            content_mode="raw",
            approved_models=tuple(ref(m) for m in spec["models"] if m["approved"]),
            other_models=tuple(ref(m) for m in spec["models"] if not m["approved"]),
            tools={n: ToolRef(n, "tool", d) for n, d in spec["tools"]},
            settings=settings,
        )
    return out
