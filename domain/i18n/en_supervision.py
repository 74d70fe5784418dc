"""English texts of the supervisors' pages (issue 15): the yearly cap on hand-made inspections
and extension decisions with a granted deadline."""

from __future__ import annotations

SUPERVISION: dict[str, str] = {
    "inspection.yearly_cap_reached": "The enterprise's inspections in {year} reached the yearly cap ({cap:num}, {counted:num} so far); no further inspection can be planned (Guo Ban Fa [2024] No. 54)",
    "rectification.granted_beyond_request": "The deadline granted may not be later than the one requested ({requested:date})",
    "rectification.granted_not_later": "The deadline granted must be after the current one ({current:date}) and not in the past",
}
