-- Sign-in attempts, for throttling repeated failures per username and per client address.
-- outcome: ok | failed (wrong password, unknown or inactive account) | throttled (refused unread).
CREATE TABLE login_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts         timestamptz NOT NULL DEFAULT now(),
    username   text NOT NULL,
    client_ip  text NOT NULL DEFAULT '',
    outcome    text NOT NULL CHECK (outcome IN ('ok', 'failed', 'throttled'))
);
CREATE INDEX login_attempts_user_ts ON login_attempts (username, ts DESC);
CREATE INDEX login_attempts_ip_ts ON login_attempts (client_ip, ts DESC);

-- Listing users by role and state for the admin page.
CREATE INDEX users_role ON users (role, active);
