-- Every released group is noised (bins, bin squares, components, component products); the σ
-- of each is kept with the window so the tests can be re-run on the released data.
ALTER TABLE drift_windows ADD COLUMN noise TEXT;
