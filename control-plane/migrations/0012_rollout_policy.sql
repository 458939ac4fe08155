-- Per-model rollout policy (protocol/src/rollout-policy.ts), set by an operator: what a publisher
-- token may start on its own. Absent = DEFAULT_POLICY.
CREATE TABLE rollout_policies (
  model_id   INTEGER PRIMARY KEY REFERENCES models(id),
  policy     TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
