-- Stored objects whose bytes no longer match their digest, as found by whoever read them (the
-- edge serving a chunk or manifest, a chunk PUT, a scrub): one row per object, the detections
-- counted. A repair (a chunk PUT that replaces the bytes) deletes the row.
CREATE TABLE storage_faults (
  kind       TEXT NOT NULL CHECK (kind IN ('chunk', 'manifest')),
  digest     TEXT NOT NULL,
  detections INTEGER NOT NULL DEFAULT 1,
  first_seen TEXT NOT NULL,
  last_seen  TEXT NOT NULL,
  last_where TEXT NOT NULL,
  PRIMARY KEY (kind, digest)
);
