"""APScheduler app and its jobs: draws, reminders, escalations, watchdogs, maintenance."""
