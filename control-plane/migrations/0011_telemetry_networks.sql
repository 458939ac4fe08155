-- How many distinct client networks stood behind each released aggregate (SPEC 11.3): counts
-- only, JSON {networks, attested, capped, largest}. Decisions and alarms that rest on too few
-- networks are withheld (drift/networks.ts).
ALTER TABLE drift_windows ADD COLUMN networks TEXT;
