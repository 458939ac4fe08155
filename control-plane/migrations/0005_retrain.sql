-- The retrain trigger's state per released window: the CUSUM of window drift scores, and the
-- reasons a retrain was requested at this window (JSON), if it was.
ALTER TABLE drift_windows ADD COLUMN cusum REAL;
ALTER TABLE drift_windows ADD COLUMN retrain TEXT;
