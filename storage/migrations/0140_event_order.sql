-- Event-time order per enterprise (docs/architecture.md "Event-time order").
-- The key of the last event applied to an enterprise's state: (ts, seq or -1, event id). An event
-- that sorts before it is late: the enterprise's state is replayed from the event log.
ALTER TABLE enterprise_status
    ADD COLUMN order_ts    timestamptz,
    ADD COLUMN order_seq   bigint,
    ADD COLUMN order_event text;

-- Events that arrived late: 'late' (replayed into the state) or 'beyond_horizon' (older than the
-- replay horizon: stored, not applied). NULL for events applied in order. Nullable without a
-- default, so adding it is a catalogue change on a hypertable with compression as well.
ALTER TABLE events ADD COLUMN order_flag text;

-- Enterprises with events stored before this migration: their last event time is the order key
-- (an older event then replays; an event at the same time or later is in order).
UPDATE enterprise_status s SET order_ts = e.last_ts, order_seq = -1, order_event = ''
  FROM (SELECT enterprise_id, max(ts) AS last_ts FROM events GROUP BY enterprise_id) e
 WHERE s.enterprise_id = e.enterprise_id;
