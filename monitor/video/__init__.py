"""Live video: site agent, session manager, MQTT signalling, cheap recording and snapshots."""
