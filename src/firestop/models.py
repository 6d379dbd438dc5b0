"""Imports every area's tables so that ``Base.metadata`` is complete (Alembic, tests)."""

from firestop.access import models as access_models
from firestop.db import Base
from firestop.detect import models as detect_models
from firestop.incidents import models as incidents_models
from firestop.inventory import models as inventory_models
from firestop.ledger import models as ledger_models
from firestop.signals import models as signals_models

__all__ = [
    "Base",
    "access_models",
    "detect_models",
    "incidents_models",
    "inventory_models",
    "ledger_models",
    "signals_models",
]
