"""One settings object for everything we run, read from the environment or `.env`."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.alerts.metrics import AlertMetric
from bot.business_hours import OpeningHours

# The shortest secret (SECRET_KEY, RASA_TOKEN, ACTION_SERVER_TOKEN, METRICS_TOKEN) accepted from the environment.
MIN_SECRET_CHARS = 32


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


PROJECT_ROOT = Path(__file__).resolve().parent.parent


class TicketCategory(BaseModel):
    key: str
    label: str
    # Words that point a free-text request at this category (ticket prefill).
    keywords: list[str] = []


class CannedReply(BaseModel):
    shortcut: str = Field(pattern=r"^/[a-z0-9_-]{1,30}$")
    title: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=2000)


DEFAULT_CANNED_REPLIES = [
    CannedReply(shortcut="/hello", title="Greeting",
                text="Hi, thanks for waiting. I've read what you told the assistant; let me look into it."),
    CannedReply(shortcut="/order", title="Ask for the order number",
                text="Could you give me your order number? It starts with a 5 or 6 digit number on your confirmation."),
    CannedReply(shortcut="/check", title="Checking",
                text="Thanks, one moment while I check that for you."),
    CannedReply(shortcut="/ticket", title="Ticket opened",
                text="I've opened a ticket so our team can follow this up; you'll get the reference in this chat."),
    CannedReply(shortcut="/bye", title="Closing",
                text="Is there anything else I can help with? If not, I'll hand you back to our assistant."),
]


class AlertRule(BaseModel):
    """A warning threshold: fires while `metric` (one of bot/alerts/metrics.py's, over the last
    `days` days, or right now for the point-in-time ones) is above or below `threshold`."""

    key: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    metric: AlertMetric
    above: float | None = None
    below: float | None = None
    days: int = Field(default=7, ge=1, le=366)

    @model_validator(mode="after")
    def _one_threshold(self) -> AlertRule:
        if (self.above is None) == (self.below is None):
            raise ValueError(f"alert rule {self.key!r}: give exactly one of above or below")
        return self


DEFAULT_ALERT_RULES = [
    AlertRule(key="csat-low", metric="csat_satisfied_pct", below=80, days=7),
    AlertRule(key="sla-breaches", metric="sla_breaching", above=5),
    AlertRule(key="slow-handoffs", metric="handoff_wait_p90_minutes", above=5, days=7),
    AlertRule(key="recovery-overdue", metric="recovery_overdue", above=0),
    # Customers who are not hearing from us: any e-mail to them given up today.
    AlertRule(key="emails-failing", metric="emails_failed", above=0, days=1),
]


class SlaTarget(BaseModel):
    first_response_hours: float
    resolution_hours: float


DEFAULT_CATEGORIES = [
    TicketCategory(
        key="orders_shipping",
        label="Orders & shipping",
        keywords=["delivery", "deliver", "delivered", "shipping", "shipment", "parcel",
                  "package", "courier", "tracking", "never arrived", "not arrived",
                  "hasn't arrived", "late", "wrong address", "wrong item"],
    ),
    TicketCategory(
        key="returns_refunds",
        label="Returns & refunds",
        keywords=["return", "returns", "refund", "refunded", "exchange", "send back",
                  "money back", "replacement"],
    ),
    TicketCategory(
        key="billing_payments",
        label="Billing & payments",
        keywords=["charge", "charged", "billing", "bill", "invoice", "payment", "paid",
                  "overcharged", "receipt", "vat", "credit card", "debit"],
    ),
    TicketCategory(
        key="account_login",
        label="Account & login",
        keywords=["account", "login", "log in", "sign in", "password", "locked out",
                  "username", "profile", "two-factor", "2fa"],
    ),
    TicketCategory(
        key="product_technical",
        label="Product & technical",
        keywords=["broken", "faulty", "defective", "not working", "stopped working",
                  "damaged", "warranty", "repair", "error", "crash", "battery", "app",
                  "website", "bug"],
    ),
    TicketCategory(key="other", label="Other", keywords=[]),
]

DEFAULT_SLA = {
    "urgent": SlaTarget(first_response_hours=1, resolution_hours=8),
    "high": SlaTarget(first_response_hours=4, resolution_hours=24),
    "normal": SlaTarget(first_response_hours=24, resolution_hours=48),
    "low": SlaTarget(first_response_hours=48, resolution_hours=120),
}


# Pictures, PDFs and plain text: what customers send to show a problem, and nothing that runs.
DEFAULT_ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
                            "text/csv")


class Settings(BaseSettings):
    """Every setting has a working development default; docs/configuration.md describes each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    company_name: str = "Brightside"
    # Full SQLAlchemy URL; when unset, a SQLite file at `sqlite_path` is used.
    database_url: str | None = None
    sqlite_path: Path = PROJECT_ROOT / "var" / "support.db"

    ticket_categories: list[TicketCategory] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    sla_policy: dict[str, SlaTarget] = Field(default_factory=lambda: dict(DEFAULT_SLA))
    survey_file: Path = PROJECT_ROOT / "bot" / "surveys" / "default_survey.yml"
    # Failed ticket look-ups (wrong reference or e-mail) allowed per conversation.
    max_lookup_attempts: int = 3
    # How a repeat contact is recognised: an earlier ticket from the same e-mail this recently.
    repeat_contact_days: int = 30
    # Survey answers at or below this score on the first question open a recovery ticket.
    recovery_score_threshold: int = 2
    # A recovery item (low score or complaint) is due this long after it opens.
    recovery_due_hours: float = Field(default=24.0, gt=0)
    # E-mail of the staff member who owns recovery items no agent handled (empty: unowned).
    manager_on_duty: str | None = None
    # Reports count whole days in this time zone (empty: BUSINESS_TIMEZONE).
    report_timezone: str | None = None
    # The longest range one report or export may cover, in days.
    report_max_days: int = Field(default=366, ge=1)
    # Warning thresholds on the KPIs (JSON list of {"key", "metric", "above"|"below", "days"}).
    alert_rules: list[AlertRule] = Field(default_factory=lambda: list(DEFAULT_ALERT_RULES))
    # How often each API process evaluates them (0: never; use `python -m bot alerts check` from cron).
    alert_check_seconds: float = Field(default=60.0, ge=0)
    # Each alert that fires is POSTed here once (JSON), with retries; empty: no webhook.
    alert_webhook_url: str | None = None
    alert_webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    # Retries when the database is locked or briefly unreachable, before apologising.
    db_retry_attempts: int = 4

    # Signs staff sign-in tokens. When unset, a random key is created once in `secret_key_file`
    # (shared by every process on this machine); set it when API processes run on several hosts.
    secret_key: SecretStr | None = None
    secret_key_file: Path = PROJECT_ROOT / "var" / "secret_key"
    # How long a staff sign-in token is valid (one shift).
    access_token_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    # Send the console's sign-in cookie over HTTPS only. Browsers also accept it on
    # http://localhost; turn it off only for plain-HTTP set-ups you trust.
    cookie_secure: bool = True

    # The largest request body the API reads (413 beyond it, before anything parses it).
    request_max_bytes: int = Field(default=256 * 1024, ge=16 * 1024, le=64 * 1024 * 1024)
    # Longest chat message a customer or agent may send (longer ones are refused with 413).
    chat_max_message_chars: int = Field(default=2000, ge=1)
    # Rate limits on the customer gateway ("N/second|minute|hour"); over them: 429.
    chat_rate_per_session: str = "20/minute"
    chat_rate_per_address: str = "120/minute"
    chat_sessions_per_address: str = "30/minute"
    # Failed staff sign-ins allowed per typed e-mail and per client address; over either: 429 with
    # Retry-After (the same whether the account exists), and the password is not even checked.
    signin_failures_per_account: str = "5/15 minutes"
    signin_failures_per_address: str = "20/15 minutes"
    # Live chats one agent may hold at once; a claim beyond it is refused.
    agent_max_live_chats: int = Field(default=3, ge=1)
    # How long the API waits for the bot's reply before telling the customer it is unavailable.
    rasa_timeout_seconds: float = Field(default=30.0, gt=0)
    # When people answer live chat, e.g. "mon-fri 09:00-17:00; sat 10:00-14:00" (empty: always).
    # Outside them, or with no agent online, a request for a person becomes a ticket at once.
    business_hours: str = ""
    business_timezone: str = "UTC"
    # A customer waiting this long without a claim gets a ticket instead, and the bot back.
    handoff_queue_timeout_seconds: float = Field(default=300.0, gt=0)
    # A chat the bot holds, with no line from anyone for this long, is closed (the customer's
    # next message then starts a new chat). Queued and agent-held chats are left to the queue
    # timeout and the agent.
    chat_idle_close_minutes: float = Field(default=60.0, gt=0)
    # How often each API process looks for customers who have waited too long.
    handoff_sweep_seconds: float = Field(default=15.0, gt=0)
    # How often the agent console is expected to ping its WebSocket (it pings every 20 s).
    agent_heartbeat_seconds: float = Field(default=20.0, ge=20)
    # An agent whose console has been gone this long loses their live chats to the queue.
    agent_reconnect_grace_seconds: float = Field(default=120.0, gt=0)
    # Replies an agent inserts with a click or by typing the shortcut (JSON list).
    canned_replies: list[CannedReply] = Field(default_factory=lambda: list(DEFAULT_CANNED_REPLIES))

    # Other web sites that embed the chat widget (their origins, e.g. ["https://shop.example"]);
    # the widget served by the API itself needs nothing here.
    widget_origins: list[str] = []
    # Redis for live events shared by several API processes (e.g. redis://127.0.0.1:6379/0);
    # unset: events stay inside one process.
    redis_url: str | None = None
    # How many API processes `make run` starts (uvicorn --workers). More than one needs REDIS_URL, so
    # that live events, rate limits and the one-line-at-a-time lock are shared between them.
    api_workers: int = Field(default=1, ge=1, le=64)

    # The Rasa server, or several (shards) separated by commas: the API sends each conversation to
    # one of them (api/rasa_shards.py). `make run` sets it to the servers it starts.
    rasa_url: str = "http://127.0.0.1:5005"
    # How many Rasa servers `make run` starts (on RASA_PORT and the ports after it); they share the
    # tracker store, so use PostgreSQL or Redis for it when there are several.
    rasa_shards: int = Field(default=1, ge=1, le=32)
    # How often the API checks that each Rasa shard is up.
    rasa_check_seconds: float = Field(default=1.0, gt=0)
    # Where the Rasa server keeps each conversation's state (its tracker store), so that a restart
    # goes on with a half-filled form: unset, an SQLite file of its own (var/rasa-trackers.db);
    # else a sqlite:///, postgresql:// (a database of Rasa's own: it creates its tables there, apart
    # from ours) or redis:// URL.
    rasa_tracker_store: str | None = None
    # Rasa's events older than this are deleted (an SQL store: by the API's hourly sweep; Redis:
    # a conversation's key expires this long after its last line). Reports and exports read our
    # own tables, not these.
    rasa_tracker_keep_days: float = Field(default=30.0, gt=0)
    # Chats with no line for this many days lose their names, addresses and lines (the API's hourly
    # sweep; rows and counts stay; Rasa's state of them goes too). Unset: kept until erased.
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    # Rasa's API token (`rasa run --auth-token`); `make run` makes one for each start.
    rasa_token: SecretStr | None = None
    rasa_port: int = 5005
    action_port: int = 5055
    # The action server's address: loopback unless it runs on a private network (its own host or
    # container); it answers only calls that carry ACTION_SERVER_TOKEN, which Rasa's action endpoint
    # sends (endpoints.yml). `make run` makes a token for each start.
    action_host: str = "127.0.0.1"
    action_server_token: SecretStr | None = None
    # The API is ready (GET /health/ready) when at least this many Rasa shards answer; unset: all of them.
    rasa_ready_shards: int | None = Field(default=None, ge=1)
    # Operators' view (docs/operations.md): every process serves Prometheus metrics at GET /metrics to a
    # scraper that sends `Authorization: Bearer <METRICS_TOKEN>`; unset, /metrics is off (404).
    metrics_token: SecretStr | None = None
    # Log lines as text for people (the default), or one JSON object each for a log collector.
    log_format: Literal["text", "json"] = "text"
    # The API's address. Anything but loopback needs SECRET_KEY and RASA_TOKEN set (refused at start
    # otherwise): processes on other hosts must share them, and a public server must not lean on
    # keys made up on its own disk.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Where people reach the API (e.g. https://support.example.com), for the links it hands out (a
    # password reset); unset: http://API_HOST:API_PORT.
    public_url: str | None = None
    # How long a password-reset link works.
    password_reset_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)

    # E-mail to customers (bot.mail). SMTP_URL: smtp://user:pass@host:587 (STARTTLS, required before
    # a password is sent anywhere but this machine) or smtps://user:pass@host:465; unset: each e-mail
    # is written as an .eml file to MAIL_OUTBOX_DIR instead, for reading.
    smtp_url: SecretStr | None = None
    mail_from: str = "Brightside support <support@example.com>"
    # Where customers' replies go (the support mailbox, e.g. support@example.com): each e-mail's
    # Reply-To is that address with the ticket after a "+" (support+TCK-AB12CD.<signature>@example.com).
    # Unset: no Reply-To.
    mail_reply_to: str | None = None
    mail_outbox_dir: Path = PROJECT_ROOT / "var" / "outbox"
    # The e-mails' words (YAML, Jinja2): copy bot/mail/default_templates.yml and point this at the copy.
    mail_templates_file: Path = PROJECT_ROOT / "bot" / "mail" / "default_templates.yml"
    # A failed sending is tried again after 30 s, 1, 2, 4 ... minutes (at most an hour apart), this many
    # times in all; then the e-mail is marked failed for agents and managers to see.
    mail_max_attempts: int = Field(default=10, ge=1, le=100)
    # How often each API process looks for e-mails to send (0: never; another process sends them).
    mail_send_seconds: float = Field(default=5.0, ge=0)
    # How long the link to a ticket's page in each e-mail works (each e-mail carries a new one).
    ticket_link_days: int = Field(default=90, ge=1, le=3650)
    # The support mailbox customers write and reply to (bot.mail.inbound): imap://user:pass@host:143
    # (STARTTLS) or imaps://user:pass@host:993; unset: nothing is read. Taken messages move from
    # IMAP_FOLDER to IMAP_DONE_FOLDER; one larger than MAIL_MAX_INBOUND_BYTES is not taken.
    imap_url: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_done_folder: str = "Processed"
    imap_poll_seconds: float = Field(default=60.0, ge=0)
    mail_max_inbound_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024)
    # The files kept from customers' e-mails: each at most this large, of these types (checked against
    # the file's content, not only its name); others are refused and the customer is told which and why.
    mail_attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    mail_attachment_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES), min_length=1)

    @field_validator("smtp_url", "mail_reply_to", "imap_url", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty value (`SMTP_URL=` in an env file, `${SMTP_URL:-}` in compose) means unset."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rasa_url")
    @classmethod
    def _rasa_urls_are_urls(cls, value: str) -> str:
        urls = [url.strip() for url in value.split(",")]
        bad = [url for url in urls if not url.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"RASA_URL must be one or more http(s):// URLs separated by commas, not {bad[0]!r}")
        if len(set(urls)) != len(urls):
            raise ValueError("RASA_URL names a Rasa server twice")
        return ",".join(urls)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def rasa_urls(self) -> list[str]:
        return self.rasa_url.split(",")

    @field_validator("secret_key", "action_server_token", "rasa_token", "metrics_token")
    @classmethod
    def _secrets_are_long(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"{info.field_name.upper()} must be at least {MIN_SECRET_CHARS} characters "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return value

    @model_validator(mode="after")
    def _a_public_api_has_its_secrets(self) -> Settings:
        if is_loopback(self.api_host):
            return self
        missing = [name for name, value in (("SECRET_KEY", self.secret_key), ("RASA_TOKEN", self.rasa_token))
                   if value is None]
        if missing:
            raise ValueError(f"API_HOST={self.api_host} is not a loopback address, so {' and '.join(missing)} "
                             "must be set: refusing to serve other machines with keys made up on this one")
        return self

    @field_validator("rasa_tracker_store")
    @classmethod
    def _a_tracker_store_rasa_has(cls, value: str | None) -> str | None:
        if value and value.split(":", 1)[0] not in ("sqlite", "postgresql", "redis"):
            raise ValueError(f"RASA_TRACKER_STORE must be a sqlite:///, postgresql:// or redis:// URL, not {value!r}")
        return value

    @field_validator("sla_policy")
    @classmethod
    def _every_priority_has_a_target(cls, value: dict[str, SlaTarget]) -> dict[str, SlaTarget]:
        missing = {"low", "normal", "high", "urgent"} - set(value)
        if missing:
            raise ValueError(f"SLA policy lacks targets for: {', '.join(sorted(missing))}")
        return value

    @field_validator("ticket_categories")
    @classmethod
    def _categories_are_unique(cls, value: list[TicketCategory]) -> list[TicketCategory]:
        keys = [category.key for category in value]
        if not keys or len(keys) != len(set(keys)):
            raise ValueError("ticket categories need at least one entry and unique keys")
        return value

    @field_validator("chat_rate_per_session", "chat_rate_per_address", "chat_sessions_per_address",
                     "signin_failures_per_account", "signin_failures_per_address")
    @classmethod
    def _rate_is_readable(cls, value: str) -> str:
        import limits

        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate; write e.g. '20/minute'") from None
        return value

    @model_validator(mode="after")
    def _several_api_processes_share_redis(self) -> Settings:
        if self.api_workers > 1 and not self.redis_url:
            raise ValueError(f"API_WORKERS={self.api_workers} needs REDIS_URL: without it each API process keeps "
                             "its own live events and rate limits, and a customer and an agent on different "
                             "processes would not see each other's lines")
        return self

    @model_validator(mode="after")
    def _opening_hours_are_readable(self) -> Settings:
        try:
            OpeningHours.parse(self.business_hours, self.business_timezone)
        except ValueError as error:
            raise ValueError(f"BUSINESS_HOURS / BUSINESS_TIMEZONE: {error}") from None
        return self

    @property
    def opening_hours(self) -> OpeningHours:
        return OpeningHours.parse(self.business_hours, self.business_timezone)

    @property
    def report_zone(self) -> str:
        """The time zone reports count whole days in."""
        return self.report_timezone or self.business_timezone

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"

    def category_label(self, key: str) -> str:
        for category in self.ticket_categories:
            if category.key == key:
                return category.label
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
