"""MQTT ingest, operation status, alarms and video sessions."""
