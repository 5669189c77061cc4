"""Settings from environment variables and an optional `.env` file, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Platform = Literal["console", "slack", "discord"]

REQUIRED: dict[str, tuple[str, ...]] = {
    "console": (),
    "slack": ("slack_bot_token", "slack_signing_secret"),
    "discord": ("discord_token",),
}


class SettingsError(Exception):
    """Settings are missing or malformed; the message names each variable and never shows a secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_platform: Platform = "console"
    knowledge_dir: Path | None = None
    knowledge_poll_seconds: float = Field(default=2.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    host: str = "0.0.0.0"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    rate_limit_per_minute: int = Field(default=20, ge=0)
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    web_token: SecretStr | None = None
    web_enabled: bool = False
    data_dir: Path = Path("data")
    database_url: str | None = None
    database_connect_timeout: float = Field(default=5.0, gt=0)
    digest_poll_seconds: float = Field(default=30.0, gt=0)
    digest_lease_seconds: float = Field(default=300.0, gt=0)
    digest_retry_seconds: float = Field(default=60.0, gt=0)
    digest_max_attempts: int = Field(default=5, ge=1)
    database_statement_timeout: float = Field(default=5.0, gt=0)
    database_workers: int = Field(default=4, ge=1, le=32)
    database_max_pending_writes: int = Field(default=1000, ge=1)
    dedupe_ttl_seconds: float = Field(default=900.0, gt=0)
    gaps_retention_days: float = Field(default=90.0, gt=0)
    knowledge_max_drop: float = Field(default=0.1, ge=0, le=1)
    user_hash_salt: SecretStr | None = None
    user_hash_salt_file: Path | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    slack_admin_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    slack_retry_seconds: float = Field(default=60.0, ge=0)
    port: int = Field(default=3000, ge=1, le=65535)

    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None
    discord_shard_count: int | None = Field(default=None, ge=1)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str | None) -> str | None:
        """Checked by scheme only: parsing it fully would import SQLAlchemy for every command."""
        if url is None:
            return None
        backend = url.partition("://")[0].partition("+")[0] if "://" in url else ""
        if backend not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError("must be a sqlite:///PATH or postgresql://USER@HOST/DB URL")
        return url

    @field_validator("slack_admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def require(self, platform: Platform) -> None:
        """The one "token missing" rule: every secret a platform needs, named in one message."""
        missing = [name.upper() for name in REQUIRED[platform] if getattr(self, name) is None]
        if missing:
            raise SettingsError(f"{platform} needs these environment variables set: {', '.join(missing)}")

    def secret(self, name: str) -> str:
        """A secret's value for an adapter; missing, it is a SettingsError naming the variable."""
        value = getattr(self, name)
        if not isinstance(value, SecretStr):
            raise SettingsError(f"{name.upper()} is not set")
        return value.get_secret_value()

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'keynote-bot.sqlite3'}"


def load_settings() -> Settings:
    try:
        return Settings()
    except UnicodeDecodeError as error:
        # pydantic-settings reads `.env` as UTF-8; a stray Latin-1 byte would otherwise be a traceback.
        env_file = Path(str(Settings.model_config.get("env_file") or ".env")).resolve()
        raise SettingsError(
            f"cannot read {env_file}: it is not UTF-8 text (byte 0x{error.object[error.start]:02x} at "
            f"offset {error.start}); save it as UTF-8"
        ) from None
    except ValidationError as error:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}" for e in error.errors()
        ]
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None
