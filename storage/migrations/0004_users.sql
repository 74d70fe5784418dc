-- Accounts that sign in to the API. Roles: admin, supervisor, duty, inspector, enterprise.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    display_name  text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    role          text NOT NULL
                  CHECK (role IN ('admin', 'supervisor', 'duty', 'inspector', 'enterprise')),
    enterprise_id text REFERENCES enterprises (credit_code),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL))
);
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION sw_touch_updated_at();
