"""HTTP routes for the inventory area (filled in by its issue work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["inventory"])
