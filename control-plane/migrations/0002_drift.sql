-- Released (noised) drift windows and the privacy ledger. Raw aggregates never leave their
-- Durable Object; each window is released at most once.
CREATE TABLE drift_windows (
  model_id    INTEGER NOT NULL REFERENCES models(id),
  version     INTEGER NOT NULL,
  window      INTEGER NOT NULL,
  cohort      TEXT NOT NULL,
  devices     INTEGER NOT NULL,
  released    INTEGER NOT NULL,            -- 0: too few devices, nothing released
  aggregate   TEXT,                        -- noised sums (JSON), when released
  verdict     TEXT,                        -- per-feature tests and effect sizes (JSON)
  alarm       INTEGER NOT NULL DEFAULT 0,
  noise_sigma REAL,
  closed_at   TEXT NOT NULL,
  PRIMARY KEY (model_id, version, window, cohort)
);

CREATE TABLE privacy_ledger (
  id        INTEGER PRIMARY KEY,
  model_id  INTEGER NOT NULL REFERENCES models(id),
  window    INTEGER NOT NULL,
  rho       REAL NOT NULL,                 -- zCDP spent by this release
  epsilon   REAL NOT NULL,                 -- the same, as (ε, δ) for one release
  delta     REAL NOT NULL,
  released_at TEXT NOT NULL
);
CREATE INDEX privacy_ledger_model ON privacy_ledger (model_id, window);
