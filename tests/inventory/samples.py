"""Inventory files shared by the inventory tests."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
BOM_17 = DATA / "model-card-with-dataset.bom.json"
BOM_16 = DATA / "model-zoo.cdx-1.6.json"
BOM_15 = DATA / "fraud-scoring.cdx-1.5.json"

SMALL = """\
teams:
  - {slug: secops, name: Security Operations, contact: "#secops-oncall"}
people:
  - {slug: amara, name: Amara Okafor, team: secops, email: amara@example.com}
  - {slug: lena, name: Lena Fischer, title: Product owner}
vendors:
  - slug: nimbus
    name: Nimbus AI
    contacts: [{name: Support desk, email: support@nimbus.example, phone: "+44 20 7946 0311"}]
    escalation_route: [Open a P1 ticket, Call the hotline, E-mail the account manager]
    notify_within_hours: 24
    notification_terms: Security incidents within 24 hours.
    support_url: https://support.nimbus.example
    status_url: https://status.nimbus.example
systems:
  - slug: support-bot
    name: Support bot
    owner: lena
    business_process: Customer service chat
    criticality: high
    models:
      - {name: nimbus-large, provider: Nimbus AI, version: "2025-09", approved: true}
      - {name: nimbus-large, provider: Nimbus AI, version: "2026-01"}
    data_sources: [{name: Help centre, kind: knowledge base, classification: public}]
    tools:
      - {name: issue_refund, destructive: true, description: Refunds up to 250}
      - {name: crm, kind: connector}
    vendors: [nimbus]
    approved_uses: [Answer billing questions]
    prohibited_uses: [Give legal advice]
    risk_assessment: {id: RA-1, url: "https://grc.example/RA-1"}
    fallback:
      manual_process: |-
        Route chats to the phone queue.
        Agents raise refunds by hand.
      capacity: 40 % of normal volume
      what_stops: Night-time chat
  - {slug: coder, name: Coding assistant, criticality: low}
assignments:
  - {role: incident_commander, person: amara}
  - {system: support-bot, role: product_owner, person: lena}
authority:
  - action: suspend_agent
    criticality: high
    decision: needs_approval
    invokers: [incident_commander]
    approvers: [business_lead]
  - action: suspend_agent
    system: support-bot
    decision: pre_authorized
    invokers: [incident_commander, security]
  - {action: switch_to_manual, criticality: low, decision: forbidden, note: Nothing to switch to}
"""

SYSTEM = {
    "slug": "claims-triage",
    "name": "Claims triage",
    "criticality": "critical",
    "models": [{"name": "triage-gbm", "version": "4.2.1", "approved": True}],
    "tools": [{"name": "claims_core", "kind": "connector"}],
    "fallback": {"capacity": "40 % of normal volume", "what_stops": "Fast-track payments"},
}
