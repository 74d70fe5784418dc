-- Enterprise self-service (企业端): an enterprise's manager account (the ones the bureau creates)
-- may add reporter accounts of its own enterprise; a reporter may report but not manage.

ALTER TABLE users ADD COLUMN enterprise_manager boolean NOT NULL DEFAULT true;
