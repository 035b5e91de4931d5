"""The one settings object of wangge (environment variables and an optional ``.env``).

Every variable has the ``WANGGE_`` prefix except ``DATABASE_URL``, which is also
accepted under its conventional name. The fields are grouped in classes by concern
(database, server, locating, cases, access, map) that ``Settings`` combines, so one
object still holds them all. Nothing is read at import time: callers build
``Settings()`` when they start.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    """The project folder when running from a checkout, else the working directory."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


_CONFIG = SettingsConfigDict(env_prefix="WANGGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore")


class DatabaseSettings(BaseSettings):
    """Where the data lives: an existing server or the embedded cluster, and the pool."""

    model_config = _CONFIG

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "WANGGE_DATABASE_URL"),
        description="An existing PostGIS server; unset = the embedded cluster.",
    )
    home: Path = Field(default_factory=_default_home, description="Where var/ lives.")
    pg_port: int = Field(default=54320, ge=1, le=65535, description="Embedded cluster port.")
    pg_bindir: Path | None = Field(default=None, description="PostgreSQL binaries to use.")
    db_name: str = Field(default="wangge", description="Database on the embedded cluster.")
    pool_size: int = Field(default=10, ge=1, le=200)
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After on a 503.")
    replica_url: str | None = Field(
        default=None, description="A streaming hot standby for reads that may be a moment stale."
    )
    replica_max_lag_s: float = Field(
        default=10.0, gt=0, description="A standby further behind than this is not read from."
    )
    replica_check_s: float = Field(default=1.0, gt=0, description="How often the standby's lag is checked.")
    pg_replica_port: int = Field(default=54321, ge=1, le=65535, description="`wangge db replica up`'s port.")
    pg_replica_home: Path | None = Field(
        default=None, description="The embedded standby's folder (var/pg/replica)."
    )
    prepared_statements: bool = Field(
        default=True, description="Off behind PgBouncer in transaction mode (it cannot keep them)."
    )


class ServerSettings(BaseSettings):
    """How the API is served: address, workers, public URL, limits on every request."""

    model_config = _CONFIG

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str = Field(default="", description="Public URL (QR codes); default from host.")
    debug: bool = False
    workers: int = Field(default=1, ge=1, le=64)
    max_body_mb: int = Field(default=100, ge=1, description="Largest request body of any request.")
    max_upload_mb: int = Field(default=100, ge=1, description="Largest request body in MB.")
    asset_tolerance_m: float = Field(
        default=30.0, ge=0, le=1000, description="Imported assets may lie this far outside the district."
    )
    rate_limit_per_min: int = Field(
        default=1200, ge=0, description="Requests per caller per minute; 0 = off."
    )
    cors_origins: list[str] = Field(default=[], description="Origins allowed to call the API from browsers.")


class LocateSettings(BaseSettings):
    """Locating points: the index, what counts as nearby and as ambiguous, batch sizes."""

    model_config = _CONFIG

    nearby_assets_m: float = Field(default=100.0, gt=0, le=5000, description="Locate: assets within this.")
    nearby_incidents_m: float = Field(default=200.0, gt=0, le=5000, description="Locate: open cases within.")
    ambiguous_m: float = Field(default=5.0, ge=0, description="Below this boundary distance, flag.")
    locate_cell_m: float = Field(default=2.5, gt=0.2, le=50, description="Locator raster cell size.")
    index_check_s: float = Field(
        default=1.0, ge=0, description="How often workers look for a new generation."
    )
    batch_max_points: int = Field(default=1_000_000, ge=1, description="Largest locate batch.")
    heavy_jobs: int = Field(default=2, ge=1, le=64, description="CPU-heavy jobs at once per worker.")
    print_jobs: int = Field(default=1, ge=1, le=16, description="PDFs Chromium prints at once per worker.")
    file_max_points: int = Field(default=50_000_000, ge=1, description="Largest `wangge locate --file`.")


class CaseSettings(BaseSettings):
    """Cases: working hours, KPI thresholds, retention of personal data."""

    model_config = _CONFIG

    work_hours: str = Field(default="08:30-17:30", description="Working window of a working day (Beijing).")
    response_hours: float = Field(default=24.0, gt=0, description="KPI: responded within this many hours.")
    backdate_days: float = Field(
        default=3.0, ge=0, le=366, description="Inspections dated back at most this."
    )
    retention_days: int = Field(default=730, ge=1, description="Anonymise reporters of cases closed before.")
    case_retention_months: int | None = Field(
        default=None,
        ge=1,
        description="Drop the months of cases received this many months ago (unset: keep).",
    )


class AccessSettings(BaseSettings):
    """Who may read and how long a sign-in lasts; what the public sees of a location."""

    model_config = _CONFIG

    secret_key: str = Field(default="", description="Signs access tokens; unset = var/secret (generated).")
    public_reads: bool = Field(
        default=True, description="Layers, cases and analytics readable without sign-in."
    )
    public_snap_m: float = Field(default=50.0, ge=0, le=1000, description="Public case locations snapped to.")
    cockpit_public: bool = Field(
        default=False, description="The enterprise cockpit (/cockpit) readable without sign-in."
    )
    signin_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed sign-ins per account before a pause (refills per minute).",
    )
    signin_failures_per_address: int = Field(
        default=20, ge=1, le=10_000, description="Failed sign-ins per address before a pause (per minute)."
    )
    token_minutes: int = Field(default=30, ge=1, le=24 * 60, description="Access token lifetime.")
    session_hours: float = Field(
        default=8.0, gt=0, le=24 * 7, description="A page session lasts this long after its last use."
    )
    session_max_hours: float = Field(
        default=24.0, gt=0, le=24 * 30, description="A page session ends this long after sign-in."
    )


class PhotoSettings(BaseSettings):
    """Photos: where the store is, what a photo may be, when unattached uploads are swept."""

    model_config = _CONFIG

    photo_dir: Path | None = Field(default=None, description="The photo store's folder; unset = var/photos.")
    photo_max_mb: float = Field(default=12.0, gt=0, le=200, description="Largest photo in MB.")
    photo_max_pixels: int = Field(default=50_000_000, ge=10_000, description="Largest photo in pixels.")
    photo_display_px: int = Field(default=1600, ge=200, le=8000, description="Long side of the display copy.")
    photo_thumb_px: int = Field(default=320, ge=64, le=1000, description="Long side of the thumbnail.")
    photo_far_m: float = Field(
        default=300.0, gt=0, description="A photo's EXIF position this far from the report's is flagged."
    )
    photo_orphan_hours: float = Field(
        default=24.0, gt=0, description="Uploads no case or inspection took are removed after this."
    )


class NotifySettings(BaseSettings):
    """Telling people and systems: the district's message gateway, SMTP, webhooks, the outbox."""

    model_config = _CONFIG

    notify_gateway_url: str = Field(
        default="", description="The district's SMS/WeChat HTTP gateway; unset = messages are held."
    )
    notify_gateway_secret: str = Field(default="", description="Signs requests to the gateway (HMAC).")
    smtp_host: str = Field(default="", description="SMTP server for e-mail; unset = e-mails are held.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = Field(default="wangge@localhost", description="The sender of e-mails.")
    smtp_tls: bool = Field(default=False, description="STARTTLS before signing in.")
    outbox_tick_s: float = Field(default=1.0, gt=0, le=60, description="How often the worker looks.")
    outbox_batch: int = Field(default=200, ge=1, le=10_000, description="Deliveries leased at once.")
    events_batch: int = Field(
        default=5000, ge=1, le=100_000, description="Camera events folded in one transaction."
    )
    outbox_senders: int = Field(default=16, ge=1, le=256, description="Deliveries sent at once.")
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_pause_after: int = Field(
        default=10, ge=1, le=1000, description="A webhook failing this many times in a row is paused."
    )
    delivery_max_attempts: int = Field(default=12, ge=1, le=100, description="Then a delivery is failed.")
    visit_after_hours: float = Field(
        default=0.0,
        ge=0,
        le=24 * 30,
        description="The satisfaction visit (回访) goes out this long after 结案.",
    )
    report_per_hour: int = Field(
        default=10, ge=0, description="Resident reports per device an hour (an address: ten times); 0 = off."
    )


class MapSettings(BaseSettings):
    """The web map, its tiles and the reference data's seed."""

    model_config = _CONFIG

    basemap: str = Field(
        default="none", pattern="^(none|osm|tianditu|amap)$", description="The map's default base map."
    )
    tianditu_key: str = Field(default="", description="天地图 key (the Tianditu base map needs one).")
    tile_cache_mb: int = Field(default=64, ge=0, le=4096, description="Each worker's tile cache; 0 = off.")
    demo_seed: int = Field(default=20240601, description="Seed of the generated demo layers.")


class DemoSettings(BaseSettings):
    """The demo feed: generated cases filed and worked at the district's rhythm."""

    model_config = _CONFIG

    demo_feed: str = Field(
        default="on", pattern="^(on|off)$", description="Whether `make run` starts `wangge demo feed`."
    )
    demo_feed_per_day: float = Field(
        default=60.0, gt=0, le=1_000_000, description="New generated cases a day (the district files ~60)."
    )
    demo_feed_tick_s: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds between the feed's rounds."
    )
    demo_feed_catch_up_days: int = Field(
        default=14, ge=0, le=366, description="How far back a feed started late files the cases it missed."
    )


class Settings(
    DatabaseSettings,
    ServerSettings,
    LocateSettings,
    CaseSettings,
    AccessSettings,
    PhotoSettings,
    NotifySettings,
    MapSettings,
    DemoSettings,
):
    """Every setting of the server, the embedded cluster and the CLI: one object, one prefix."""

    model_config = _CONFIG

    @field_validator("database_url", "replica_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
        if not value:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def var_dir(self) -> Path:
        """Project-local state: the embedded cluster, caches (ignored by git)."""
        return self.home / "var"

    @property
    def photo_root(self) -> Path:
        """The photo store's folder."""
        return self.photo_dir or self.var_dir / "photos"

    @property
    def pg_dir(self) -> Path:
        return self.var_dir / "pg"

    @property
    def pg_socket_dir(self) -> Path:
        return self.pg_dir / "run"

    @property
    def pg_replica_dir(self) -> Path:
        """``wangge db replica up``'s standby cluster (its data, log and socket folders)."""
        return self.pg_replica_home or self.pg_dir / "replica"

    def embedded_replica_url(self) -> str:
        """The URL of the embedded standby (``wangge db replica up``)."""
        socket = quote(str(self.pg_replica_dir / "run"), safe="")
        return f"postgresql+psycopg://wangge@/{self.db_name}?host={socket}&port={self.pg_replica_port}"

    @property
    def embedded(self) -> bool:
        """True when the platform runs its own cluster (no DATABASE_URL)."""
        return self.database_url is None

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def sqlalchemy_url(self, database: str | None = None) -> str:
        """The URL of ``database`` (default: the configured one) on the configured server."""
        if self.database_url is not None:
            if database is None:
                return self.database_url
            from sqlalchemy.engine import make_url

            return make_url(self.database_url).set(database=database).render_as_string(False)
        socket = quote(str(self.pg_socket_dir), safe="")
        name = database or self.db_name
        return f"postgresql+psycopg://wangge@/{name}?host={socket}&port={self.pg_port}"


def redact(url: str) -> str:
    """``url`` with its password replaced, for logs and messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
