-- Staged rollouts. The coordinator Durable Object of each rollout serialises its transitions and
-- writes this row, the audit record and the model's ticket sequence in one D1 batch; the edge
-- reads the row to assign devices. At most one rollout per model is live (draft/running/paused).
CREATE TABLE rollouts (
  id                 TEXT PRIMARY KEY,
  model_id           INTEGER NOT NULL REFERENCES models(id),
  champion_version   INTEGER NOT NULL,
  challenger_version INTEGER NOT NULL,
  plan               TEXT NOT NULL,          -- the validated RolloutPlan (JSON)
  salt               TEXT NOT NULL,
  state              TEXT NOT NULL,          -- draft | running | paused | promoted | rolled-back | aborted
  step               INTEGER NOT NULL,       -- index into plan.steps
  percent            REAL NOT NULL,          -- challenger share now (0 once ended without promotion)
  step_started_at    TEXT,
  decision           TEXT,                   -- the last analysis decision with its evidence (JSON)
  created_by         TEXT NOT NULL,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX rollouts_one_live_per_model ON rollouts (model_id) WHERE state IN ('draft', 'running', 'paused');
