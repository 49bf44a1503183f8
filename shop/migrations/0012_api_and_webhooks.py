"""The JSON API's tokens and rate windows, and the outgoing webhooks' endpoints, events,
deliveries and attempts. New tables only; no existing table changes.
"""

import datetime
import json

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class User(Model):
    class Meta:
        table_name = "user"
        legacy_table_names = False


class _Table(Model):
    class Meta:
        legacy_table_names = False


class PersonalAccessToken(_Table):
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField()
    prefix = CharField()
    token_hash = CharField(unique=True)
    scopes = CharField()
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    expires_at = DateTimeField()
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "personal_access_token"


class ApiRateWindow(_Table):
    key = CharField(unique=True)
    requests = IntegerField()
    window_started_at = DateTimeField(index=True)

    class Meta:
        table_name = "api_rate_window"


class WebhookEndpoint(_Table):
    owner = ForeignKeyField(User, backref="webhook_endpoints", on_delete="CASCADE")
    url = TextField()
    events = JSONField(default=list)
    nonce = CharField()
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    failing_since = DateTimeField(null=True)
    disabled_at = DateTimeField(null=True)
    disabled_reason = TextField(null=True)

    class Meta:
        table_name = "webhook_endpoint"


class OutgoingEvent(_Table):
    event_id = CharField(unique=True)
    key = CharField(unique=True)
    type = CharField(index=True)
    audience = ForeignKeyField(User, null=True, on_delete="CASCADE")
    body = TextField()
    created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

    class Meta:
        table_name = "outgoing_event"


class WebhookDelivery(_Table):
    event = ForeignKeyField(OutgoingEvent, backref="deliveries", on_delete="CASCADE")
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    request_key = CharField(unique=True)
    created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
    delivered_at = DateTimeField(null=True)
    gave_up_at = DateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"


class WebhookAttempt(_Table):
    delivery = ForeignKeyField(WebhookDelivery, backref="attempts", on_delete="CASCADE")
    started_at = DateTimeField(default=datetime.datetime.utcnow)
    duration_ms = IntegerField(default=0)
    status_code = IntegerField(null=True)
    error = TextField(null=True)

    class Meta:
        table_name = "webhook_attempt"


TABLES = [PersonalAccessToken, ApiRateWindow, WebhookEndpoint, OutgoingEvent, WebhookDelivery, WebhookAttempt]


def upgrade(migrator, db):
    with db.bind_ctx([User, *TABLES]):
        db.create_tables(TABLES)
