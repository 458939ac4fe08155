-- Evaluation sets and the metrics the control plane computes on them (issue 15). A publisher's
-- metrics are what it says; these are what the stored model bytes score on rows an operator
-- registered, so a rollout gate with source 'server' reads them instead:
--   SELECT e.metrics FROM evaluations e JOIN eval_sets s ON s.model_id = e.model_id AND s.digest = e.eval_set_digest
--    WHERE e.model_id = ? AND e.version = ?
-- One current set per model; registering another replaces the row, and evaluations on the old
-- digest stay (history) but no longer join.
CREATE TABLE eval_sets (
  model_id      INTEGER PRIMARY KEY REFERENCES models(id),
  digest        TEXT NOT NULL,               -- SHA-256 of the canonical set bytes, stored in R2 at evalsets/<digest>
  rows          INTEGER NOT NULL,
  row_shape     TEXT NOT NULL,               -- JSON number[]: one row's input shape (without the batch dimension)
  classes       INTEGER NOT NULL,            -- labels are 0 … classes − 1
  label         TEXT,
  registered_by TEXT NOT NULL,
  registered_at TEXT NOT NULL
);

CREATE TABLE evaluations (
  model_id        INTEGER NOT NULL REFERENCES models(id),
  version         INTEGER NOT NULL,
  eval_set_digest TEXT NOT NULL,
  metrics         TEXT NOT NULL,             -- JSON {accuracy, logLoss | null, rows, correct, classes}
  evaluated_at    TEXT NOT NULL,
  ms              REAL NOT NULL,             -- wall time of the model run (load + inference)
  evaluated_by    TEXT NOT NULL,
  PRIMARY KEY (model_id, version, eval_set_digest)
);
