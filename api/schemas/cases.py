"""Cases (案件): one case with its reporters and history, lists, categories."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Answer, Point, Timestamp
from layers.cases.categories import Category


class ActionIn(BaseModel):
    """What every action on a case carries: a note, and the version of the case the page
    showed (its history's length) so an action on a case that changed meanwhile is a 409."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000, pattern=r"^[^\x00]*$")
    version: int | None = Field(
        default=None, ge=0, le=1_000_000, description="The case's version as shown; omitted: not checked."
    )


class CaseSummary(Answer):
    """A case as lists show it (the public sees it snapped and without the handler)."""

    id: int
    number: str
    source: str
    category: str
    category_name: str
    category_kind: str
    appeal_type: str | None
    description: str
    photos: list[str]
    status: str
    located_by: str | None
    location_input: dict[str, Any]
    location_note: str | None
    inside: bool | None
    generation: int | None
    street: str | None
    community: str | None
    grid: str | None
    micro_grid: str | None
    asset_id: str | None
    camera_id: str | None
    machine_confidence: float | None
    unit: str | None
    unit_name: str | None
    community_name: str | None = None
    second_unit: str | None
    routed_by: str | None
    handler: str | None
    received_at: Timestamp
    responded_at: Timestamp | None
    warn_at: Timestamp
    deadline: Timestamp
    escalate_at: Timestamp
    closed_at: Timestamp | None
    satisfied: bool | None
    merged_into: int | None
    overdue: Literal["red", "amber"] | None
    escalated_to: Literal["street", "community"] | None
    point: Point | None = None
    urged: int | None = None
    repeats: int | None = None
    rounds: int | None = None
    extended_hours: float | None = None
    paused_hours: float | None = None
    extension_hours: float | None = None
    extension_reason: str | None = None
    suspended_at: Timestamp | None = None
    review_on: date | None = None
    suspend_reason: str | None = None


class Reporter(Answer):
    """A reporter as the caller may see them (masked or absent for most roles)."""

    source: str | None = None
    name: str | None = None
    phone: str | None = None
    consent: bool | None = None
    received_at: Timestamp | None = None
    merged_from: int | None = None
    anonymised: bool | None = None


class Event(Answer):
    """One event of the case's append-only history."""

    at: Timestamp
    actor: str | None
    role: str | None
    action: str
    from_status: str | None
    to_status: str | None
    unit: str | None
    note: str | None
    photos: list[str]


class Duplicate(Answer):
    id: int
    number: str
    distance_m: float


class Case(CaseSummary):
    """One case with its reporters and its full history."""

    reporters: list[Reporter]
    history: list[Event]
    version: int | None = None
    likely_duplicates: list[Duplicate] | None = None


class CaseList(Answer):
    numberMatched: int
    numberReturned: int
    limit: int
    offset: int
    incidents: list[CaseSummary]


class CaseFeature(Answer):
    type: Literal["Feature"]
    id: int
    geometry: Point | None
    properties: CaseSummary


class CaseFeatures(Answer):
    """Cases as GeoJSON for the map (``f=geojson``)."""

    type: Literal["FeatureCollection"]
    numberMatched: int
    numberReturned: int
    limit: int
    offset: int
    features: list[CaseFeature]


class Department(Answer):
    code: str
    name: str


class Categories(Answer):
    categories: list[Category]  # the catalogue's own dataclass
    departments: list[Department]


class Unit(Answer):
    """A unit a case may go to, and why the matrix offers it."""

    unit: str
    name: str
    why: Literal["current", "second", "matrix", "category", "street", "community", "grid"]


class Units(Answer):
    units: list[Unit]


class NearDuplicate(Answer):
    id: int
    number: str
    status: str
    received_at: Timestamp
    distance_m: float
    category: str | None = None


class Task(CaseSummary):
    """A case on the field phone's list: to handle or to verify, how far, its version."""

    task: Literal["handle", "verify"]
    distance_m: float | None
    version: int


class Tasks(Answer):
    tasks: list[Task]


class Followed(Answer):
    """A case the caller now follows."""

    id: int
    number: str
    repeats: int
    track: str


class Tracked(Case):
    """A case as its reporter tracks it (the public's view)."""

    visit_open: bool
    reason: str | None
    merged_number: str | None


class Duplicates(Answer):
    likely_duplicates: list[NearDuplicate]


class Counts(Answer):
    """How many cases match a filter in all and in each status (the workbench's tabs)."""

    total: int
    statuses: dict[str, int]


class Cluster(Answer):
    count: int
    lon: float
    lat: float
    overdue: Literal["red", "amber"] | None
    id: int | None = None
    number: str | None = None


class Clusters(Answer):
    zoom: int
    total: int
    clusters: list[Cluster]


class SavedFilter(Answer):
    name: str
    query: str


class SavedFilters(Answer):
    filters: list[SavedFilter]


class Phrase(Answer):
    id: int
    action: str
    category: str | None
    text: str
    position: int


class Phrases(Answer):
    phrases: list[Phrase]


class ExportJob(Answer):
    id: str
    format: Literal["csv", "xlsx"]
    query: str
    state: Literal["running", "done", "failed"]
    total: int
    done: int
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    file_url: str | None = None
