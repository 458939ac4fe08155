-- Operator webhooks and their delivery log. A delivery row is written in the same D1 batch as
-- the change that caused the event (a transactional outbox), then handed to the WEBHOOKS queue;
-- a sweep re-enqueues rows whose message was lost. Webhooks are soft-deleted so the log stays
-- readable.
CREATE TABLE webhooks (
  id          TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  secret      TEXT NOT NULL,               -- HMAC key; returned once at creation, never listed
  events      TEXT NOT NULL,               -- JSON array of event types
  model_id    INTEGER REFERENCES models(id),
  description TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL,
  deleted_at  TEXT
);

CREATE TABLE webhook_deliveries (
  id          INTEGER PRIMARY KEY,
  webhook_id  TEXT NOT NULL REFERENCES webhooks(id),
  event_id    TEXT NOT NULL,
  type        TEXT NOT NULL,
  subject     TEXT,
  payload     TEXT NOT NULL,               -- the exact CloudEvent body sent on every attempt
  status      TEXT NOT NULL,               -- pending | delivered | failed
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error  TEXT,
  next_attempt_at TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (status, next_attempt_at);
