-- One commit per upload (issue 15). A commit first claims its upload: a compare-and-swap that
-- sets `claim` (a fresh token) where none is held, or where the holder's lease ran out (a commit
-- that crashed); every statement of its final D1 batch is conditioned on still holding it. Before
-- a claimed commit stores its signed manifest in R2 it writes the digest to `manifest`, so the
-- commit that takes the claim over after a crash removes that manifest (no version names it).
-- `version` is the version a committed upload made, for the answer to a repeated commit.
ALTER TABLE uploads ADD COLUMN claim TEXT;
ALTER TABLE uploads ADD COLUMN claimed_at TEXT;
ALTER TABLE uploads ADD COLUMN manifest TEXT;
ALTER TABLE uploads ADD COLUMN version INTEGER;
