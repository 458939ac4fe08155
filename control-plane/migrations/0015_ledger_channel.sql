-- Which telemetry each release spent its budget on (issue 16). A rollout step's budget goes to the
-- channels its plan judges (rollouts/step-budget.ts): 'step-health' (the step's health records),
-- 'step-sketches' (its drift sketches); 'window' is a day's drift-and-health close. The console and
-- GET /v1/models/{m}/privacy show the split. Rows from before this migration: 'window' or 'step'.
ALTER TABLE privacy_ledger ADD COLUMN channel TEXT NOT NULL DEFAULT 'window';
UPDATE privacy_ledger SET channel = 'step' WHERE scope <> 'window';
