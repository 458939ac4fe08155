-- A rollout step's releases (its health records and sketches, judged before the day's window
-- closes) spend privacy budget on top of the daily window's. They are ledgered with scope 'step'
-- so that ROLLOUT_STEP_EPSILON_PER_DAY can cap them per model and day.
ALTER TABLE privacy_ledger ADD COLUMN scope TEXT NOT NULL DEFAULT 'window';
