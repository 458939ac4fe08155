-- Token lifecycle (issue 15): console sessions kept server side, and app keys that rotate.

-- A console sign-in. The cookie holds a random 256-bit id; only its SHA-256 is kept, so a read of
-- this table does not yield a working cookie. token_id names the operator token signed in with
-- (`bootstrap:<digest prefix>` for the ADMIN_TOKEN secret); revoking that token ends its sessions.
CREATE TABLE console_sessions (
  id_hash    TEXT PRIMARY KEY,
  token_id   TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('viewer', 'publisher', 'operator', 'admin')),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ended_at   TEXT
);
CREATE INDEX console_sessions_token ON console_sessions (token_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- apps keeps what an app is; its keys move to app_keys (the plaintext column goes). The table is
-- rebuilt before app_keys refers to it, the old keys held aside meanwhile.
CREATE TABLE legacy_app_keys AS SELECT id, app_key, created_at FROM apps;
CREATE TABLE apps_v2 (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  models     TEXT NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO apps_v2 (id, name, models, created_at) SELECT id, name, models, created_at FROM apps;
DROP TABLE apps;
ALTER TABLE apps_v2 RENAME TO apps;

-- An app's device keys: usually one, two during a rotation's grace period. key_hash is the key's
-- SHA-256 (hex). SQL cannot hash, so keys minted before this migration are carried over as
-- 'plain:' || key and looked up in both forms until they are rotated away. expires_at is when the
-- key stops working (a rotation's grace end, or the moment of revocation); NULL = no end.
CREATE TABLE app_keys (
  key_hash   TEXT PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  app_id     TEXT NOT NULL REFERENCES apps(id),
  hint       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE INDEX app_keys_app ON app_keys (app_id, created_at);
INSERT INTO app_keys (key_hash, id, app_id, hint, created_at)
  SELECT 'plain:' || app_key, 'k' || id, id, substr(app_key, -4), created_at FROM legacy_app_keys;
DROP TABLE legacy_app_keys;
