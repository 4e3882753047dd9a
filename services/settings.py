"""Typed settings, read once from environment variables (12-factor)."""

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from services.addresses import check_proxies

LogFormat = Literal["auto", "json", "console"]
SmtpUrl = Annotated[
    str, msgspec.Meta(pattern=r"^$|^(smtp|smtp\+starttls|smtps)://[^/?#]+/?$", max_length=500)
]


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the processes are configured with; see the README's table."""

    database_url: str | None = None
    data_dir: Path = Path(".kolmarket")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: LogFormat = "auto"
    db_pool_min: int = 2
    db_pool_max: int = 10
    jwt_secret: str = ""
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    cors_origins: tuple[str, ...] = ()
    login_limit_per_ip: int = 30  # attempts a minute
    login_limit_per_account: int = 10  # attempts of one account from one address in 15 minutes
    login_slowdown_after: int = 20  # failures of one account, from anywhere, before delays
    login_max_delay_seconds: int = 60  # the longest delay between logins from new addresses
    step_up_max_age_seconds: int = 600  # how recent a login dangerous operations need
    trusted_proxies: tuple[str, ...] = ()  # peers whose X-Forwarded-For names the client
    audit_retention_days: int = 180
    register_limit_per_ip: int = 20  # registrations an hour
    request_limit_per_minute: int = 1200  # per caller, shared by every process
    click_limit_per_minute: int = 120  # tracking-link redirects per client IP, every process
    redis_url: str | None = None  # shared limits in Redis rather than PostgreSQL
    click_spool_dir: Path | None = None  # unset: data_dir / "clicks"
    stripe_api_key: str = ""
    stripe_api_base: str = ""
    stripe_webhook_secret: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    minimum_payout: int = 1_000  # minor units: smaller transfers wait until due payouts add up
    stripe_timeout_seconds: float = 5.0  # waiting for Stripe's answer to one request
    stripe_connect_timeout_seconds: float = 2.0
    stripe_max_retries: int = 2  # a lost connection is retried with the same idempotency key
    db_acquire_timeout_seconds: float = 5.0  # waiting for a pooled connection, then 503
    webhook_allow_local: bool = False  # http and loopback endpoints: development and tests only
    webhook_timeout_seconds: float = 10.0  # one delivery attempt, connection to answer
    webhook_concurrency: int = 32  # delivery attempts at once per worker process
    webhook_retry_schedule: tuple[float, ...] = ()  # seconds between attempts; () = documented
    event_stream_heartbeat_seconds: float = 15.0  # a comment line on a quiet event stream
    smtp_url: SmtpUrl = ""  # empty: mails go to the log
    mail_from: str = "kolmarket <notifications@kolmarket.test>"
    smtp_timeout_seconds: float = 10.0  # one mail, from connecting to the server's answer
    app_base_url: str = "http://127.0.0.1:8000"  # the frontend: links in mails start here
    notification_retention_days: int = 365  # older notifications are deleted, read or not

    def __post_init__(self) -> None:
        check_proxies(self.trusted_proxies)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        def csv(name: str) -> tuple[str, ...]:
            return tuple(p.strip() for p in (get(name) or "").split(",") if p.strip())

        raw: dict[str, object] = {
            "database_url": get("DATABASE_URL"),
            "data_dir": get("KOLMARKET_DATA_DIR"),
            "host": get("HOST"),
            "port": get("PORT"),
            "log_level": get("LOG_LEVEL"),
            "log_format": get("LOG_FORMAT"),
            "db_pool_min": get("DB_POOL_MIN"),
            "db_pool_max": get("DB_POOL_MAX"),
            "jwt_secret": get("JWT_SECRET"),
            "access_token_ttl_seconds": get("ACCESS_TOKEN_TTL_SECONDS"),
            "refresh_token_ttl_seconds": get("REFRESH_TOKEN_TTL_SECONDS"),
            "cors_origins": csv("CORS_ORIGINS"),
            "login_limit_per_ip": get("LOGIN_LIMIT_PER_IP"),
            "login_limit_per_account": get("LOGIN_LIMIT_PER_ACCOUNT"),
            "login_slowdown_after": get("LOGIN_SLOWDOWN_AFTER"),
            "login_max_delay_seconds": get("LOGIN_MAX_DELAY_SECONDS"),
            "step_up_max_age_seconds": get("STEP_UP_MAX_AGE_SECONDS"),
            "trusted_proxies": csv("TRUSTED_PROXIES"),
            "audit_retention_days": get("AUDIT_RETENTION_DAYS"),
            "register_limit_per_ip": get("REGISTER_LIMIT_PER_IP"),
            "request_limit_per_minute": get("REQUEST_LIMIT_PER_MINUTE"),
            "click_limit_per_minute": get("CLICK_LIMIT_PER_MINUTE"),
            "redis_url": get("REDIS_URL"),
            "click_spool_dir": get("CLICK_SPOOL_DIR"),
            "stripe_api_key": get("STRIPE_API_KEY"),
            "stripe_api_base": get("STRIPE_API_BASE"),
            "stripe_webhook_secret": get("STRIPE_WEBHOOK_SECRET"),
            "public_base_url": get("PUBLIC_BASE_URL"),
            "minimum_payout": get("MINIMUM_PAYOUT"),
            "stripe_timeout_seconds": get("STRIPE_TIMEOUT_SECONDS"),
            "stripe_connect_timeout_seconds": get("STRIPE_CONNECT_TIMEOUT_SECONDS"),
            "stripe_max_retries": get("STRIPE_MAX_RETRIES"),
            "db_acquire_timeout_seconds": get("DB_ACQUIRE_TIMEOUT_SECONDS"),
            "webhook_allow_local": get("WEBHOOK_ALLOW_LOCAL"),
            "webhook_timeout_seconds": get("WEBHOOK_TIMEOUT_SECONDS"),
            "webhook_concurrency": get("WEBHOOK_CONCURRENCY"),
            "webhook_retry_schedule": csv("WEBHOOK_RETRY_SCHEDULE"),
            "event_stream_heartbeat_seconds": get("EVENT_STREAM_HEARTBEAT_SECONDS"),
            "smtp_url": get("SMTP_URL"),
            "mail_from": get("MAIL_FROM"),
            "smtp_timeout_seconds": get("SMTP_TIMEOUT_SECONDS"),
            "app_base_url": get("APP_BASE_URL"),
            "notification_retention_days": get("NOTIFICATION_RETENTION_DAYS"),
        }
        values = {k: v for k, v in raw.items() if v is not None}
        settings = msgspec.convert(values, cls, strict=False, dec_hook=_decode)
        if not settings.jwt_secret:
            # A process without a configured secret signs with a random one: tokens then
            # last only as long as the process, which is right for local runs and tests.
            settings = msgspec.structs.replace(settings, jwt_secret=secrets.token_urlsafe(48))
        return settings

    @property
    def spool_folder(self) -> Path:
        """Where acknowledged clicks wait until they are stored."""
        return self.click_spool_dir or self.data_dir / "clicks"


def _decode(type_: type, value: object) -> object:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(f"cannot read {type_} from the environment")
