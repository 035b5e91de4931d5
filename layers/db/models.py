"""Every table, declared once for queries and for migration checks (tests compare them).

One ``areas`` table holds every level (district → street → community → grid →
micro-grid) of every generation. The database itself enforces the hierarchy: the
code's length matches the level, a child's code extends its parent's by three
digits, the parent exists in the same generation (a deferred foreign key, so a
whole generation loads in one transaction), and geometries are valid and non-empty.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from layers.db.vocabulary import (
    ADDRESS_OUTCOMES,
    APPEAL_TYPES,
    CATEGORY_KINDS,
    CHANNELS,
    CODE_LENGTH,
    DELIVERY_STATES,
    DEPARTMENT_KINDS,
    ENTERPRISE_EVENT_KINDS,
    ENTERPRISE_STATUSES,
    EVENT_KINDS,
    EVENT_STATES,
    FIRST_RESPONDERS,
    GENERATION_STATES,
    INSPECTION_RESULTS,
    LEVELS,
    PHOTO_TYPES,
    PLACE_KINDS,
    RECIPIENT_KINDS,
    ROLES,
    SOURCES,
    STATUSES,
    sql_in,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata


class Generation(Base):
    """A version of the grid layers; exactly one is active, drafts are checked first."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), server_default="draft")
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(sql_in("status", GENERATION_STATES), name="status"),
        Index(
            "uq_generations_one_active",
            "status",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )


_LENGTH_CASE = " ".join(f"WHEN '{lvl}' THEN {n}" for lvl, n in CODE_LENGTH.items())


class Area(Base):
    """One polygon of the hierarchy in one generation."""

    __tablename__ = "areas"

    generation: Mapped[int] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(18), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(String(18))
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    area_m2: Mapped[float] = mapped_column(Float, Computed("ST_Area(geom::geography)", persisted=True))
    geom_3857: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    worker_name: Mapped[str | None] = mapped_column(Text)
    worker_phone: Mapped[str | None] = mapped_column(Text)
    party_branch: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))

    __table_args__ = (
        ForeignKeyConstraint(
            ["generation", "parent_code"],
            ["areas.generation", "areas.code"],
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(sql_in("level", LEVELS), name="level"),
        CheckConstraint("code ~ '^[0-9]+$'", name="code_digits"),
        CheckConstraint(f"length(code) = CASE level {_LENGTH_CASE} END", name="code_length"),
        CheckConstraint("(level = 'district') = (parent_code IS NULL)", name="root"),
        CheckConstraint(
            "parent_code IS NULL OR parent_code = left(code, length(code) - 3)",
            name="code_extends_parent",
        ),
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        CheckConstraint(
            "level = 'grid' OR (worker_name IS NULL AND worker_phone IS NULL AND party_branch IS NULL)",
            name="worker_on_grids",
        ),
        Index("ix_areas_geom", "geom", postgresql_using="gist"),
        Index("ix_areas_geom_3857", "geom_3857", postgresql_using="gist"),
        Index("ix_areas_generation_level", "generation", "level"),
        Index("ix_areas_generation_parent_code", "generation", "parent_code"),
    )


class Address(Base):
    """A standard address (门牌): road, house number, optional building, and its point."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    road: Mapped[str] = mapped_column(Text)
    house_number: Mapped[str] = mapped_column(Text)
    building: Mapped[str] = mapped_column(Text, server_default="")
    address: Mapped[str] = mapped_column(Text)
    search: Mapped[str] = mapped_column(Text)  # normalised text the trigram index searches
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    source: Mapped[str] = mapped_column(Text, server_default="")
    district: Mapped[str] = mapped_column(String(6), server_default="")  # a road may run through two

    __table_args__ = (
        UniqueConstraint(
            "district",
            "road",
            "house_number",
            "building",
            name="uq_addresses_district_road_house_number_building",
        ),
        Index("ix_addresses_geom", "geom", postgresql_using="gist"),
        Index(
            "ix_addresses_search", "search", postgresql_using="gin", postgresql_ops={"search": "gin_trgm_ops"}
        ),
    )


class Road(Base):
    """A road name with addresses on it: the short list that typo-tolerant search compares with."""

    __tablename__ = "roads"

    name: Mapped[str] = mapped_column(Text, primary_key=True)


class Place(Base):
    """A named place people call by name (小区, building, school, market, park, landmark).

    ``generated`` names were made up for the reference district (and say so); ``address``
    is the doorplate the place stands at, when it has one."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    address_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("addresses.id", ondelete="SET NULL")
    )
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    generated: Mapped[bool] = mapped_column(Boolean, server_default=true())
    source: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (CheckConstraint(sql_in("kind", PLACE_KINDS), name="kind"),)


class PlaceName(Base):
    """Every name of a place (its name and aliases), normalised as queries are."""

    __tablename__ = "place_names"

    place_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("places.id", ondelete="CASCADE"), primary_key=True
    )
    search: Mapped[str] = mapped_column(Text, primary_key=True)

    __table_args__ = (
        Index("ix_place_names_search", "search"),
        Index(
            "ix_place_names_search_trgm",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
        ),
    )


class Asset(Base):
    """A component (部件) of any registered kind; located to its micro-grid by the database."""

    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    subclass: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(Text, server_default="")
    point: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    site: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    point_3857: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=False),
        Computed("ST_Transform(point, 3857)", persisted=True),
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    generation: Mapped[int | None] = mapped_column(Integer)
    micro_grid: Mapped[str | None] = mapped_column(String(18))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("id ~ '^[0-9]{16}$'", name="id_digits"),
        CheckConstraint("substr(id, 7, 4) = subclass", name="id_subclass"),
        Index("ix_assets_point", "point", postgresql_using="gist"),
        Index("ix_assets_point_3857", "point_3857", postgresql_using="gist"),
        Index("ix_assets_site", "site", postgresql_using="gist"),
        Index("ix_assets_kind", "kind"),
        Index("ix_assets_micro_grid", "micro_grid"),
    )


class Campaign(Base):
    """An inspection campaign (专项排查): name, period, area, and the patrol scope it reported."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)
    area_code: Mapped[str] = mapped_column(String(18))
    road_segments: Mapped[int | None] = mapped_column(Integer)
    compounds: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (CheckConstraint("ends >= starts", name="period"),)


class Inspection(Base):
    """A patrol record of one asset."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    inspected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    inspector: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(8))
    defect: Mapped[str | None] = mapped_column(Text)
    photo_url: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(sql_in("result", INSPECTION_RESULTS), name="result"),
        CheckConstraint("(result = 'defect') = (defect IS NOT NULL)", name="defect"),
        Index("ix_inspections_asset_id_inspected_at", "asset_id", "inspected_at"),
        Index("ix_inspections_campaign_id", "campaign_id"),
    )


class Department(Base):
    """A unit that handles cases: a district department, an owner unit or a street office."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint(sql_in("kind", DEPARTMENT_KINDS), name="kind"),)


class Category(Base):
    """A case category: kind, who gets it first, its department and time limit (editable data)."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    first: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    asset_kind: Mapped[str | None] = mapped_column(Text)
    deadline_hours: Mapped[float] = mapped_column(Numeric(8, 2))
    working_time: Mapped[bool] = mapped_column(Boolean)
    machine: Mapped[bool] = mapped_column(Boolean, server_default=false())
    source: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # the longest deadline extension (延期) a unit may be granted; NULL = the category's own limit
    max_extension_hours: Mapped[float | None] = mapped_column(Numeric(8, 2))
    # "likely duplicate": another case of this category within these metres and hours
    duplicate_m: Mapped[float] = mapped_column(Float, server_default="50")
    duplicate_hours: Mapped[float] = mapped_column(Float, server_default="72")

    __table_args__ = (
        CheckConstraint("code ~ '^[EC][0-9]{4}$'", name="code"),
        CheckConstraint("duplicate_m > 0 AND duplicate_m <= 5000", name="duplicate_m"),
        CheckConstraint("duplicate_hours > 0 AND duplicate_hours <= 8760", name="duplicate_hours"),
        CheckConstraint(sql_in("kind", CATEGORY_KINDS), name="kind"),
        CheckConstraint(sql_in("first", FIRST_RESPONDERS), name="first"),
        CheckConstraint("deadline_hours > 0", name="deadline"),
    )


class Responsibility(Base):
    """A row of the responsibility matrix: area (any level) × category (or all) → unit."""

    __tablename__ = "responsibilities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    unit: Mapped[str] = mapped_column(Text)
    escalation: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (
        UniqueConstraint(
            "area_code",
            "category",
            name="uq_responsibilities_area_category",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("area_code ~ '^([0-9]{3}){2,6}$'", name="area"),
    )


class IncidentNumber(Base):
    """The last case serial of each Beijing day."""

    __tablename__ = "incident_numbers"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class IncidentKey(Base):
    """What partitioning cannot hold: each case's unique number and idempotency key, and its
    received time (the partition key). Filled by a trigger on ``incidents``; every foreign key
    to a case points here (``layers.cases.partitions``)."""

    __tablename__ = "incident_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(Text, unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(Text, unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


CASE_KEY = "incident_keys.id"


class Incident(Base):
    """A case, with the area chain and generation it was located in and its clock; partitioned
    by the Beijing month it was received in."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(
        BigInteger, Identity(), ForeignKey(CASE_KEY, ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(Text, index=True)  # unique in incident_keys
    idempotency_key: Mapped[str | None] = mapped_column(Text)  # unique in incident_keys
    request_hash: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    appeal_type: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    point: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    h3: Mapped[int | None] = mapped_column(BigInteger)  # its H3 cell at resolution 12 (hotspots)
    located_by: Mapped[str] = mapped_column(Text)
    location_input: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    location_note: Mapped[str | None] = mapped_column(Text)
    inside: Mapped[bool] = mapped_column(Boolean, server_default=false())
    generation: Mapped[int | None] = mapped_column(Integer)
    street: Mapped[str | None] = mapped_column(Text, index=True)
    community: Mapped[str | None] = mapped_column(Text, index=True)
    grid: Mapped[str | None] = mapped_column(Text, index=True)
    micro_grid: Mapped[str | None] = mapped_column(Text)
    asset_id: Mapped[str | None] = mapped_column(Text, index=True)
    camera_id: Mapped[str | None] = mapped_column(Text)
    machine_confidence: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(Text, index=True)
    second_unit: Mapped[str | None] = mapped_column(Text)
    routed_by: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="received", index=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True, primary_key=True
    )
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalate_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey(CASE_KEY, ondelete="CASCADE"))
    handler: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # supervision (督办/延期/挂账/重新办理) and repeat calls
    urged: Mapped[int] = mapped_column(Integer, server_default="0")
    repeats: Mapped[int] = mapped_column(Integer, server_default="0")
    rounds: Mapped[int] = mapped_column(Integer, server_default="1")
    round_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # reopened
    extended_hours: Mapped[float] = mapped_column(Float, server_default="0")
    paused_hours: Mapped[float] = mapped_column(Float, server_default="0")
    extension_hours: Mapped[float | None] = mapped_column(Float)  # a pending extension request
    extension_reason: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_on: Mapped[date | None] = mapped_column(Date)
    suspend_reason: Mapped[str | None] = mapped_column(Text)
    overdue_told: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the deadline announced

    __table_args__ = (
        Index("ix_incidents_point", "point", postgresql_using="gist"),
        Index("ix_incidents_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
        CheckConstraint("(suspended_at IS NULL) = (review_on IS NULL)", name="suspended"),
        CheckConstraint("(extension_hours IS NULL) OR extension_hours > 0", name="extension"),
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        CheckConstraint(sql_in("source", SOURCES), name="source"),
        CheckConstraint(f"appeal_type IS NULL OR {sql_in('appeal_type', APPEAL_TYPES)}", name="appeal_type"),
        CheckConstraint("char_length(description) <= 2000", name="description"),
        CheckConstraint("cardinality(photos) <= 9", name="photos"),
        CheckConstraint("(status = 'duplicate') = (merged_into IS NOT NULL)", name="merged"),
        CheckConstraint("warn_at <= deadline AND deadline <= escalate_at", name="clock"),
        CheckConstraint("(point IS NULL) = (h3 IS NULL)", name="point_has_cell"),
        {"postgresql_partition_by": "RANGE (received_at)"},
    )


class IncidentReporter(Base):
    """Who reported a case (personal data); a merged duplicate's reporters are copied here too."""

    __tablename__ = "incident_reporters"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey(CASE_KEY, ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # told of the case's progress (SMS/WeChat to the phone, e-mail): the reporter said yes
    notify: Mapped[bool] = mapped_column(Boolean, server_default=false())
    following: Mapped[bool] = mapped_column(Boolean, server_default=false())  # joined an existing case
    merged_from: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_incident_reporters_incident", "incident_id"),)


class IncidentEvent(Base):
    """One step of a case's history; the table is append-only (a trigger refuses the rest, but
    for retention) and partitioned with its case, by the case's received month."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey(CASE_KEY, ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="")
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    case_received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)

    __table_args__ = (
        Index("ix_incident_events_incident", "incident_id", "id"),
        {"postgresql_partition_by": "RANGE (case_received_at)"},
    )


class User(Base):
    """An account: one role, an optional unit, an argon2 password hash (none for machines)."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    role: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    token_version: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(sql_in("role", ROLES), name="role"),
        CheckConstraint("name ~ '^[A-Za-z0-9_.@-]{2,64}$'", name="name"),
    )


class Session(Base):
    """A browser session: the cookie's digest, its CSRF token and its sliding expiry."""

    __tablename__ = "sessions"

    digest: Mapped[str] = mapped_column(Text, primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    csrf: Mapped[str] = mapped_column(Text)
    token_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SavedFilter(Base):
    """A user's named filter of the case workbench (the list's query string)."""

    __tablename__ = "saved_filters"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"))
    name: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("user_name", "name"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 40", name="name"),
        CheckConstraint("char_length(query) <= 2000", name="query"),
    )


class Phrase(Base):
    """A standard text (常用语) for the note of an action, for one category or for all."""

    __tablename__ = "phrases"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    action: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        Index("ix_phrases_action", "action", "category"),
        CheckConstraint("char_length(text) BETWEEN 1 AND 200", name="text"),
    )


class ExportJob(Base):
    """A background export of a filtered case list: its progress and, when done, its file."""

    __tablename__ = "export_jobs"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"))
    format: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text, server_default="running")
    total: Mapped[int] = mapped_column(Integer, server_default="0")
    done: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("state IN ('running', 'done', 'failed')", name="state"),
        CheckConstraint("format IN ('csv', 'xlsx')", name="format"),
    )


class ApiKey(Base):
    """An API key of a user, stored as its SHA-256 digest."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"))
    prefix: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(Text, unique=True)
    label: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One audited act: a change of state or a read of personal data (append-only)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text, index=True)
    role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class AssetChanges(Base):
    """One row: a counter bumped by a trigger whenever assets are added, removed or moved (once a
    transaction: ``bumped_in`` is the transaction that last bumped it)."""

    __tablename__ = "asset_changes"

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bumped_in: Mapped[int | None] = mapped_column(BigInteger)


class LayerVersions(Base):
    """One counter per layer (``areas``, ``assets``; ``catalogue``: the routing tables), bumped by
    triggers on any change (tile caches, the catalogue kept in memory),
    once a transaction (``bumped_in``)."""

    __tablename__ = "layer_versions"

    layer: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    bumped_in: Mapped[int | None] = mapped_column(BigInteger)


class Photo(Base):
    """A photo: its original is in the photo store under its SHA-256; what it said of itself
    (EXIF position, time, device) is kept here for dispatchers and never served."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(Text, primary_key=True)  # SHA-256 of the original's bytes
    media_type: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gps: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    device: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, server_default=false())  # a report's own photo
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # NULL: swept later

    __table_args__ = (
        CheckConstraint("id ~ '^[0-9a-f]{64}$'", name="id"),
        CheckConstraint(sql_in("media_type", PHOTO_TYPES), name="media_type"),
        Index("ix_photos_unattached", "uploaded_at", postgresql_where=text("attached_at IS NULL")),
    )


class ActionKey(Base):
    """The ``Idempotency-Key`` of an action (on a case, an asset): a replay — the field phone's
    queue sending again — is not taken twice; it answers as the first did (``answer``) or, for a
    case, the case as it is now."""

    __tablename__ = "action_keys"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    target: Mapped[str] = mapped_column(Text)  # incident:ID, asset:ID, follow:ID
    actor: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Webhook(Base):
    """An endpoint another system registered for some event kinds; paused after failing on."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    failures: Mapped[int] = mapped_column(Integer, server_default="0")  # in a row
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("url ~ '^https?://'", name="url"),
        CheckConstraint(f"events <@ ARRAY[{', '.join(repr(k) for k in EVENT_KINDS)}]::text[]", name="events"),
    )


class OutboxEvent(Base):
    """Something other systems or people are told of, written in the transaction that did it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, unique=True, server_default=text("gen_random_uuid()::text"))
    kind: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Delivery(Base):
    """One event to one receiver (a webhook, or a reporter by SMS, WeChat or e-mail)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    channel: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)  # webhook:ID, or the phone / e-mail address (personal data)
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_KEY, ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event", "target", name="once"),
        CheckConstraint(sql_in("channel", CHANNELS), name="channel"),
        CheckConstraint(sql_in("state", DELIVERY_STATES), name="state"),
        Index("ix_deliveries_due", "next_at", postgresql_where=text("state IN ('pending', 'sending')")),
        Index("ix_deliveries_incident", "incident_id"),
    )


class CameraEvent(Base):
    """A machine event (an AI camera, a sensor) as it arrived: acknowledged once stored here,
    then folded by ``wangge worker`` into the open case of its kind and cell, or a new one."""

    __tablename__ = "event_inbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # the machine account that sent it
    event_id: Mapped[str] = mapped_column(Text)  # the device's own id: a resent event is stored once
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when the device saw it
    camera_id: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float)  # WGS84 (converted on arrival); None: the camera's
    lat: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(Text, server_default="new")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_KEY, ondelete="CASCADE"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_event_inbox_source_event_id"),
        CheckConstraint(sql_in("state", EVENT_STATES), name="state"),
        Index("ix_event_inbox_new", "id", postgresql_where=text("state = 'new'")),
        Index("ix_event_inbox_incident", "incident_id"),
    )


class Industry(Base):
    """A GB/T 4754-2017 code: a section (letter), division (2 digits) or class (4 digits)."""

    __tablename__ = "industries"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    section: Mapped[str] = mapped_column(String(1))

    __table_args__ = (CheckConstraint("level IN ('section', 'division', 'class')", name="level"),)


class EnterpriseDepartment(Base):
    """An industry department the daily push goes to, and the industries and 2+6 labels it
    looks after (GB/T 4754 code prefixes: the longest prefix of a firm's code decides)."""

    __tablename__ = "enterprise_departments"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    industries: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    labels: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")


_INSIDE = {p: f"{p}_micro_grid LIKE district || '%'" for p in ("reg", "op")}
_RESOLVED = " AND ".join(f"{p}_match IN ('exact', 'house_near', 'outside')" for p in ("reg", "op"))
# The separation kind from the two located addresses, computed by the database on every write:
# trusted (or known to be in a district the platform does not hold) and in the firm's district
# or not; anything else is unresolved.
SEPARATION_SQL = (
    f"CASE WHEN NOT ({_RESOLVED}) THEN 'unresolved' "
    f"WHEN {_INSIDE['reg']} AND {_INSIDE['op']} AND reg_address_id = op_address_id THEN 'same' "
    f"WHEN {_INSIDE['reg']} AND {_INSIDE['op']} THEN 'inside_elsewhere' "
    f"WHEN {_INSIDE['reg']} THEN 'operating_outside' "
    f"WHEN {_INSIDE['op']} THEN 'registered_outside' ELSE 'both_outside' END"
)

REGISTRAR_LEVEL_SQL = (  # layers.enterprises.registrars.LEVELS: the firm's district's, the city's, another's
    "CASE WHEN registrar = district THEN 'district' "
    "WHEN registrar = left(district, 4) || '00' THEN 'city' ELSE 'other' END"
)


class Enterprise(Base):
    """A firm of the register: its credit code, industry, capital, status, and its registered
    (``reg_*``) and operating (``op_*``) addresses as geocoded and located: the doorplate's id
    and point, the micro-grid it lies in (any loaded district's), the other district named
    when the address is outside the platform. ``street`` is the one responsible for the firm:
    of its operating address when that is in the firm's district, else of its registered one.
    ``legal_rep`` and ``phone`` are personal data (staff only)."""

    __tablename__ = "enterprises"

    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_pairs: Mapped[list[str]] = mapped_column(ARRAY(Text))  # its character pairs, for search
    legal_form: Mapped[str] = mapped_column(Text)
    industry: Mapped[str] = mapped_column(ForeignKey("industries.code"))
    division: Mapped[str] = mapped_column(String(2), Computed("left(industry, 2)", persisted=True))  # 大类
    label: Mapped[str | None] = mapped_column(Text)  # the district's 2+6 chain
    capital: Mapped[float | None] = mapped_column(Numeric(14, 2))  # 万元
    founded: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    status_on: Mapped[date | None] = mapped_column(Date)  # since when it is not operating
    moved_in_on: Mapped[date | None] = mapped_column(Date)
    district: Mapped[str] = mapped_column(String(6))  # the register's district
    registrar: Mapped[str] = mapped_column(String(6))  # 登记机关: its division (city or a district)
    registrar_level: Mapped[str] = mapped_column(Text, Computed(REGISTRAR_LEVEL_SQL, persisted=True))
    reg_address: Mapped[str] = mapped_column(Text)
    reg_match: Mapped[str] = mapped_column(Text)
    reg_address_id: Mapped[int | None] = mapped_column(BigInteger)
    reg_geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    reg_micro_grid: Mapped[str | None] = mapped_column(String(18))
    reg_elsewhere: Mapped[str | None] = mapped_column(Text)
    op_address: Mapped[str] = mapped_column(Text)
    op_match: Mapped[str] = mapped_column(Text)
    op_address_id: Mapped[int | None] = mapped_column(BigInteger)
    op_geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    op_micro_grid: Mapped[str | None] = mapped_column(String(18))
    op_elsewhere: Mapped[str | None] = mapped_column(Text)
    street: Mapped[str | None] = mapped_column(
        String(9),
        Computed(
            "CASE WHEN op_micro_grid LIKE district || '%' THEN left(op_micro_grid, 9) "
            "WHEN reg_micro_grid LIKE district || '%' THEN left(reg_micro_grid, 9) END",
            persisted=True,
        ),
    )
    separation: Mapped[str] = mapped_column(Text, Computed(SEPARATION_SQL, persisted=True))
    legal_rep: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, server_default=false())
    source: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("credit_code ~ '^[0-9A-HJ-NP-RT-UW-Y]{18}$'", name="credit_code"),
        CheckConstraint(sql_in("status", ENTERPRISE_STATUSES), name="status"),
        CheckConstraint(sql_in("reg_match", ADDRESS_OUTCOMES), name="reg_match"),
        CheckConstraint(sql_in("op_match", ADDRESS_OUTCOMES), name="op_match"),
        CheckConstraint("capital IS NULL OR capital >= 0", name="capital"),
        CheckConstraint("registrar ~ '^[0-9]{6}$'", name="registrar"),
        CheckConstraint("(status = '在营') = (status_on IS NULL)", name="status_on"),
        Index("ix_enterprises_label", "label"),
        Index("ix_enterprises_status_street", "status", "street"),
        Index("ix_enterprises_status_separation", "status", "separation"),
        Index("ix_enterprises_industry_status", "industry", "status"),
        Index("ix_enterprises_division_status", "division", "status"),
        Index("ix_enterprises_separation", "separation"),
        Index("ix_enterprises_founded", "founded"),
        Index("ix_enterprises_capital", "capital"),
        Index("ix_enterprises_op_geom", "op_geom", postgresql_using="gist"),
        Index("ix_enterprises_name", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
        Index("ix_enterprises_name_pairs", "name_pairs", postgresql_using="gin"),
    )


class EnterpriseHeadcount(Base):
    """A firm's monthly social-insurance headcounts: ``counts[k]`` is month ``first_month`` + k
    (one row a firm: a register's two years of months are one array, not 24 rows)."""

    __tablename__ = "enterprise_headcounts"

    credit_code: Mapped[str] = mapped_column(
        ForeignKey("enterprises.credit_code", ondelete="CASCADE"), primary_key=True
    )
    first_month: Mapped[date] = mapped_column(Date)
    counts: Mapped[list[int]] = mapped_column(ARRAY(Integer))

    __table_args__ = (
        CheckConstraint("extract(day FROM first_month) = 1", name="first_month"),
        CheckConstraint("0 <= ALL(counts) AND cardinality(counts) > 0", name="counts"),
    )


class EnterpriseEvent(Base):
    """A change of the register the daily push tells of: founded, moved in or out, closed."""

    __tablename__ = "enterprise_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    credit_code: Mapped[str] = mapped_column(ForeignKey("enterprises.credit_code", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("credit_code", "kind", "on", name="uq_enterprise_events_credit_code_kind_on"),
        CheckConstraint(sql_in("kind", ENTERPRISE_EVENT_KINDS), name="kind"),
        Index("ix_enterprise_events_on", "on"),
    )


class EnterpriseDigest(Base):
    """One day's push to one recipient (a street office or an industry department)."""

    __tablename__ = "enterprise_digests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    recipient_kind: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text)  # a street code or a department code
    records: Mapped[int] = mapped_column(Integer)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint(
            "day", "recipient_kind", "recipient", name="uq_enterprise_digests_day_recipient_kind_recipient"
        ),
        CheckConstraint(sql_in("recipient_kind", RECIPIENT_KINDS), name="recipient_kind"),
    )


class EnterpriseDigestItem(Base):
    """An event in a digest; a recipient is told of an event once, whatever day it is pushed."""

    __tablename__ = "enterprise_digest_items"

    digest_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_digests.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_events.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_kind: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint(
            "recipient_kind",
            "recipient",
            "event_id",
            name="uq_enterprise_digest_items_recipient_kind_recipient_event_id",
        ),
    )


class EnterpriseVisit(Base):
    """A street's visit (走访) to a firm, with a note."""

    __tablename__ = "enterprise_visits"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    credit_code: Mapped[str] = mapped_column(ForeignKey("enterprises.credit_code", ondelete="CASCADE"))
    street: Mapped[str] = mapped_column(String(9))
    note: Mapped[str] = mapped_column(Text, server_default="")
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_enterprise_visits_credit_code", "credit_code"),)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The tables for Core queries (``select(AREAS.c.code)``), one name per table.
GENERATIONS = _table(Generation)
AREAS = _table(Area)
ADDRESSES = _table(Address)
ROADS = _table(Road)
PLACES = _table(Place)
PLACE_NAMES = _table(PlaceName)
ASSETS = _table(Asset)
CAMPAIGNS = _table(Campaign)
INSPECTIONS = _table(Inspection)
DEPARTMENTS = _table(Department)
CATEGORIES = _table(Category)
RESPONSIBILITIES = _table(Responsibility)
INCIDENTS = _table(Incident)
INCIDENT_NUMBERS = _table(IncidentNumber)
INCIDENT_KEYS = _table(IncidentKey)
INCIDENT_REPORTERS = _table(IncidentReporter)
INCIDENT_EVENTS = _table(IncidentEvent)
USERS = _table(User)
API_KEYS = _table(ApiKey)
SESSIONS = _table(Session)
SAVED_FILTERS = _table(SavedFilter)
PHRASES = _table(Phrase)
EXPORT_JOBS = _table(ExportJob)
AUDIT = _table(AuditEntry)
ASSET_CHANGES = _table(AssetChanges)
LAYER_VERSIONS = _table(LayerVersions)
PHOTOS = _table(Photo)
ACTION_KEYS = _table(ActionKey)
WEBHOOKS = _table(Webhook)
OUTBOX = _table(OutboxEvent)
DELIVERIES = _table(Delivery)
EVENT_INBOX = _table(CameraEvent)
INDUSTRIES = _table(Industry)
ENTERPRISE_DEPARTMENTS = _table(EnterpriseDepartment)
ENTERPRISES = _table(Enterprise)
ENTERPRISE_HEADCOUNTS = _table(EnterpriseHeadcount)
ENTERPRISE_EVENTS = _table(EnterpriseEvent)
ENTERPRISE_DIGESTS = _table(EnterpriseDigest)
ENTERPRISE_DIGEST_ITEMS = _table(EnterpriseDigestItem)
ENTERPRISE_VISITS = _table(EnterpriseVisit)
