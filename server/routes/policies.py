"""Consensus policies a host can pick, with the ballot each one asks phones for."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from mobile_bridge.protocol import BallotKind
from narrative.policies import POLICY_NAMES, policy_summary
from server.rooms.views import ballot_kind

router = APIRouter(prefix="/api/policies", tags=["policies"])


class PolicyOut(BaseModel):
    name: str
    ballot: BallotKind
    summary: str


@router.get("")
async def list_policies() -> list[PolicyOut]:
    return [
        PolicyOut(name=name, ballot=ballot_kind(name), summary=policy_summary(name))
        for name in POLICY_NAMES
    ]


__all__ = ["router"]
