-- Alarm texts come from the message catalogue: keep the stable code and its parameters beside
-- the zh-CN text stored for the record, so a reader in another language gets them re-rendered.
ALTER TABLE alarms
    ADD COLUMN message_code   text,
    ADD COLUMN message_params jsonb NOT NULL DEFAULT '{}'::jsonb;
