-- Core helpers shared by later migrations.

-- Refuses any UPDATE or DELETE of a row whose table marks it immutable; raised as SQLSTATE SW001,
-- which storage/errors.py maps to domain.errors.Immutable.
CREATE OR REPLACE FUNCTION sw_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'SW001',
        MESSAGE = format('%s is append-only / immutable once published', TG_TABLE_NAME);
END;
$$;

-- Keeps updated_at current on tables that have one.
CREATE OR REPLACE FUNCTION sw_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
