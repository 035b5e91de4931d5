"""Inspection campaigns with their figures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder

from api.deps import READERS, run_read
from api.schemas import assets as assets_schema
from layers.assets import inspections

router = APIRouter(prefix="/api/campaigns", tags=["assets"], dependencies=READERS)


@router.get("", response_model=assets_schema.Campaigns, response_model_exclude_unset=True)
async def campaigns(request: Request) -> Any:
    """Every campaign with assets inspected, defective assets and defects by type."""
    return {"results": jsonable_encoder(await run_read(request, inspections.campaigns))}


@router.get("/{campaign_id}", response_model=assets_schema.Campaign, response_model_exclude_unset=True)
async def campaign(campaign_id: int, request: Request) -> Any:
    """One campaign's summary."""
    return jsonable_encoder(await run_read(request, inspections.campaign_summary, campaign_id))
