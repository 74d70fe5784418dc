-- Restart verification by video (复产复验): the sessions a decision rests on, with the identity
-- of their recordings frozen at decision time. Append-only: evidence is never edited.

CREATE TABLE restart_evidence (
    request_id        bigint NOT NULL REFERENCES restart_requests (id),
    video_session_id  text NOT NULL REFERENCES video_sessions (id),
    recording_path    text,
    recording_sha256  text,
    recording_bytes   bigint,
    attached_by       text NOT NULL,
    attached_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, video_session_id)
);
CREATE TRIGGER restart_evidence_append_only BEFORE UPDATE OR DELETE ON restart_evidence
    FOR EACH ROW EXECUTE FUNCTION sw_refuse_change();
