-- Registry, auth and audit. Versions are immutable once written; only aliases move.
CREATE TABLE models (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  -- grows on every change of what devices are told to run (DESIGN §5: ticket sequence)
  sequence    INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL
);

CREATE TABLE versions (
  id              INTEGER PRIMARY KEY,
  model_id        INTEGER NOT NULL REFERENCES models(id),
  version         INTEGER NOT NULL,
  label           TEXT,
  status          TEXT NOT NULL CHECK (status IN ('active', 'rejected')),
  format          TEXT NOT NULL,
  manifest_digest TEXT,
  total_bytes     INTEGER NOT NULL,
  params          TEXT NOT NULL DEFAULT '{}',
  metrics         TEXT NOT NULL DEFAULT '{}',
  lineage         TEXT NOT NULL DEFAULT '{}',
  io              TEXT NOT NULL DEFAULT '{}',
  validation      TEXT NOT NULL DEFAULT '{}',
  published_by    TEXT NOT NULL,
  published_at    TEXT NOT NULL,
  UNIQUE (model_id, version)
);

CREATE TABLE aliases (
  model_id   INTEGER NOT NULL REFERENCES models(id),
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (model_id, name)
);

-- Which accepted versions reference a chunk: the edge serves only referenced chunks.
CREATE TABLE chunk_refs (
  digest     TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  PRIMARY KEY (digest, version_id)
);

CREATE TABLE uploads (
  id         TEXT PRIMARY KEY,
  model_id   INTEGER NOT NULL REFERENCES models(id),
  request    TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('open', 'committed'))
);

CREATE TABLE tokens (
  id         TEXT PRIMARY KEY,
  hash       TEXT NOT NULL UNIQUE,
  role       TEXT NOT NULL CHECK (role IN ('viewer', 'publisher', 'operator', 'admin')),
  label      TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);

CREATE TABLE apps (
  id         TEXT PRIMARY KEY,
  app_key    TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  models     TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE roots (
  version    INTEGER PRIMARY KEY,
  envelope   TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE audit (
  id      INTEGER PRIMARY KEY,
  at      TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT NOT NULL,
  before  TEXT,
  after   TEXT,
  reason  TEXT
);
CREATE INDEX audit_subject ON audit (subject, id);
