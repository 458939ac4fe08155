-- A rollout step's health released in increments (issue 16): each increment holds the step
-- records of the devices that reported since the previous one, noised once by the step's
-- aggregate (releaseIncrement, then ackIncrement). The analysis sums an arm's increments and
-- judges the sums with an always-valid confidence sequence (rollouts/sequential.ts). Each device
-- is in exactly one increment of its step (the aggregate's seen-set), so the increments compose
-- in parallel: rho is the increment's noise cost, spent once per device (see analysis.ts).
CREATE TABLE step_increments (
  model_id    INTEGER NOT NULL REFERENCES models(id),
  rollout_id  TEXT NOT NULL,
  sequence    INTEGER NOT NULL,            -- the step's ticket sequence
  version     INTEGER NOT NULL,            -- challenger: the challenger range; champion: the control range
  increment   INTEGER NOT NULL,            -- 1, 2, … per (rollout, sequence, version)
  devices     INTEGER NOT NULL,
  aggregate   TEXT NOT NULL,               -- noised sums (JSON)
  noise       TEXT NOT NULL,               -- the σ per group it carries (JSON)
  rho         REAL NOT NULL,
  networks    TEXT,                        -- the step aggregate's network counts at the release (JSON)
  released_at TEXT NOT NULL,
  PRIMARY KEY (rollout_id, sequence, version, increment)
);
