"""The service itself: landing page, conformance, readiness, tilesets, the vocabulary."""

from __future__ import annotations

from api.schemas.common import Answer, Link


class Landing(Answer):
    """The OGC API landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(Answer):
    conformsTo: list[str]


class Health(Answer):
    status: str


class Readiness(Answer):
    """Database reachable, PostGIS version, migrations at head (503 with the same shape)."""

    database: str | None
    postgis: str | None
    migrations: str | None
    worker: int | None = None  # the process that answered (several workers: which one)
    replica: str | None = None  # with WANGGE_REPLICA_URL: ok, lagging, not streaming, down
    replica_lag_s: float | None = None


class Capability(Answer):
    ready: bool
    detail: str


class Capabilities(Answer):
    """The optional parts of the server and whether they are ready."""

    pdf: Capability
    chinese_fonts: Capability


class Tileset(Answer):
    id: str
    minzoom: int
    maxzoom: int
    version: str
    tiles: list[str]


class Tilesets(Answer):
    tilesets: list[Tileset]


class Level(Answer):
    level: str
    code_length: int
    zh: str
    en: str


class StatusWord(Answer):
    status: str
    open: bool
    zh: str
    en: str


class SourceWord(Answer):
    source: str
    zh: str
    en: str


class Vocabulary(Answer):
    """The platform's words (``layers.db.vocabulary``), for clients such as the web map."""

    levels: list[Level]
    statuses: list[StatusWord]
    sources: list[SourceWord]
    roles: list[str]
    privileged: list[str]
    dispatchers: list[str]
    handlers: list[str]
