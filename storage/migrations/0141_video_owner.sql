-- Video sessions across API replicas: the address of the replica that owns a session (its peer
-- connections and MQTT signalling live there); the others forward viewer offers, leaves,
-- snapshots and hang-ups to it.
ALTER TABLE video_sessions ADD COLUMN owner_url text CHECK (owner_url ~ '^https?://[^/?#]+$');
