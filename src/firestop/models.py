"""Imports every area's tables so that ``Base.metadata`` is complete (Alembic, tests)."""

from firestop.access import models as access_models
from firestop.db import Base

__all__ = ["Base", "access_models"]
