"""Configuration from ``SEGONE_*`` environment variables, with safe defaults.

A ``Settings`` object is built once at the edge (CLI start, server start, test fixture) and passed in;
nothing reads the environment at import time.
"""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Literal

from limits import parse as parse_rate
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Encounters dated earlier are typos (1800 for 2018); SEGONE_ENCOUNTER_DATE_FLOOR moves the line.
DEFAULT_ENCOUNTER_DATE_FLOOR = date(1900, 1, 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEGONE_", extra="ignore")

    data_dir: Path = Field(default=Path(".segone"), description="Where the embedded stores live.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the operational store; empty means SQLite in data_dir.",
    )
    analytics_url: str = Field(
        default="",
        description=(
            "Ibis URL of the analytics engine (duckdb://, pyspark://local[2], postgres://...); "
            "empty means a DuckDB file in data_dir."
        ),
    )
    secret_key: str = Field(
        default="",
        description="Signs session cookies; empty means a key kept in data_dir/secret_key.",
    )
    session_max_age_seconds: int = 12 * 3600
    cookie_secure: bool = Field(
        default=False,
        description=(
            "Mark the session cookie Secure (HTTPS only) always; turn on behind an HTTPS proxy. A request "
            "that arrives over HTTPS gets a Secure cookie anyway."
        ),
    )
    auth_failures_per_account: str = Field(
        default="10 per 15 minutes",
        description=(
            "Failed sign-ins one e-mail address may have in a moving window before signing in as it is "
            "refused with 429 (notation of the 'limits' package: '10 per 15 minutes')."
        ),
    )
    auth_failures_per_address: str = Field(
        default="50 per 15 minutes",
        description=(
            "Failed sign-ins and failed API token checks one client address may have in a moving window "
            "before its sign-ins and API calls are refused with 429."
        ),
    )
    auth_limit_storage: str = Field(
        default="memory://",
        description=(
            "Where failed attempts are counted, as a 'limits' storage URL: memory:// counts in each server "
            "process, so with SEGONE_WORKERS=N each worker allows the limits divided by N, rounded up (all "
            "together about the limits); redis://HOST shares one exact count between processes."
        ),
    )
    fact_categories: str = Field(
        default="",
        description=(
            "Differentiator categories as 'name:kind' pairs separated by commas (kind: business, "
            "consumer or both); empty means the defaults of the product."
        ),
    )
    behaviour_horizon_weeks: int = Field(
        default=52, ge=1, le=520, description="How far ahead expected purchases and CLV look, in weeks."
    )
    behaviour_discount_rate: float = Field(
        default=0.10, ge=0.0, lt=1.0, description="Annual discount rate of the customer lifetime value."
    )
    behaviour_model: Literal["pareto-nbd", "bgnbd", "mbgnbd", "best"] = Field(
        default="pareto-nbd",
        description=(
            "The purchase model behind every customer's P(alive) and expected purchases: pareto-nbd (BG/NBD "
            "when nobody has stopped buying), bgnbd, mbgnbd, or best: the one with the lowest holdout error "
            "on the events' default split, Pareto/NBD when they cannot be compared (docs/behaviour.md)."
        ),
    )
    lease_seconds: int = Field(
        default=120,
        ge=5,
        description="How long a refresh's lease lasts unless renewed (every quarter of it): a refresh whose "
        "process died on another host reads as failed once it runs out; on the same host at once.",
    )
    flush_interval_seconds: int = Field(
        default=30,
        ge=0,
        description="How often the server moves staged API events into the dataset; 0 turns it off, and with "
        "it the batching of the audit log's read entries (each then written as its read commits).",
    )
    knowledge_method: str = Field(
        default="tfidf",
        pattern="^(tfidf|embeddings)$",
        description="How statements saying the same thing are found: tfidf, or embeddings (optional extra).",
    )
    knowledge_threshold: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description=(
            "Similarity from which two statements of a category are one trait; empty means the method's "
            "default (0.35 for tfidf, 0.6 for embeddings; see docs/knowledge.md)."
        ),
    )
    freshness_months: int = Field(
        default=12, ge=1, le=120, description="Facts not confirmed for this many months are flagged stale."
    )
    encounter_date_floor: date = Field(
        default=DEFAULT_ENCOUNTER_DATE_FLOOR,
        description="The earliest day an encounter may be dated (UTC); earlier dates are refused as typos.",
    )
    currency: str = Field(
        default="USD",
        pattern="^[A-Za-z]{3}$",
        description=(
            "ISO 4217 code of the currency of every amount (purchase values, expected value, CLV); "
            "the demo's CDNOW amounts are US dollars."
        ),
    )
    offers_collaborative_weight: float = Field(
        default=0.3,
        ge=0.0,
        le=100.0,
        description="Weight of what customers who bought alike went on to buy (ALS) in an offer's score.",
    )
    offers_content_weight: float = Field(
        default=0.3,
        ge=0.0,
        le=100.0,
        description="Weight of how well the offering fits what the customer told us (their facts).",
    )
    offers_popularity_weight: float = Field(
        default=0.4,
        ge=0.0,
        le=100.0,
        description="Weight of how many customers bought the offering (among those with a reason).",
    )
    offers_per_customer: int = Field(
        default=10, ge=1, le=100, description="Offers stored per customer by 'segone offers refresh'."
    )
    offers_factors: int = Field(
        default=16, ge=2, le=512, description="Latent factors of the ALS model of purchases."
    )
    offers_iterations: int = Field(default=15, ge=1, le=200, description="ALS iterations.")
    offers_seed: int = Field(
        default=7, ge=0, description="Seed of the ALS model: the same data and seed give the same offers."
    )
    max_body_mb: float = Field(
        default=10.0,
        gt=0,
        description="The largest request body the server reads (JSON, forms), in MB; a larger one is "
        "answered 413 before it is read whole.",
    )
    max_upload_mb: float = Field(
        default=200.0,
        gt=0,
        description="The largest file import (a CSV body or a multipart upload) the server reads, in MB.",
    )
    consent_default: Literal["granted", "refused"] = Field(
        default="refused",
        description=(
            "A customer's consent to a purpose (contact, profiling, personalisation) while nothing is "
            "recorded for it. 'refused' is the safe default: no record is no consent. A business whose "
            "imported customers gave consent elsewhere sets 'granted' (docs/decisions.md)."
        ),
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description=(
            "Connections each server process keeps open to a PostgreSQL store, about as many as requests it "
            "answers at once: one more is opened when needed and closed after (SQLite keeps one per thread)."
        ),
    )
    jobs_in: Literal["process", "thread"] = Field(
        default="process",
        description=(
            "Where a job started through the API or the web runs (a refresh, a segmentation build): "
            "'process', a process of its own below the server's priority, so that its computing never "
            "holds up a page; 'thread', a thread of the server process that started it."
        ),
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Server processes 'segone serve' runs (each with its own threads and connections; one more "
            "process beside them flushes staged events); about one per CPU. Jobs and events are kept in "
            "the store, so any worker answers."
        ),
    )

    @field_validator("auth_failures_per_account", "auth_failures_per_address")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        # Checked here so that a typo stops the server at start, not at the first failed sign-in.
        try:
            parse_rate(value)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a rate like '10 per 15 minutes'") from exc
        return value

    @field_validator("currency")
    @classmethod
    def _upper_case(cls, value: str) -> str:
        return value.upper()

    @property
    def consent_granted_by_default(self) -> bool:
        return self.consent_default == "granted"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'segone.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept beside the data so sessions survive restarts."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
