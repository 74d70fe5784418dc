"""The only code that talks SQL: pool, migrations and repositories."""

from storage import tolerant_time as _tolerant_time

# Every connection of the process reads out-of-range timestamps (year > 9999, ±infinity) as the
# extreme aware datetimes instead of failing the whole query (one bad row must not stop a job).
_tolerant_time.register()
