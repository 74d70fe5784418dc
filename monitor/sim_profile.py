"""How often simulated sites do things and get them wrong: a realistic duty day, or a storm.

A duty room that sees hundreds of alarms in its first minute learns to ignore them, so the demo
plays sites that mostly work as they should: `NORMAL` gives a few alarms per hour per 100
enterprises (tests/unit/test_sim_rate.py measures it on simulated time). `STORM` is the old mix
for load tests and benchmarks: every site reports constantly and breaks rules often.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimProfile:
    """Rates per site (per day unless named otherwise) and the share of faulty actions."""

    name: str
    #: Mean seconds between two messages of one site (the simulator's pacing).
    message_every_s: float
    #: False: every message is drawn from a fixed mix of business events (load, no calendar).
    paced: bool
    excursions_per_day: float = 0.4
    ops_per_working_day: float = 2.0
    ops_per_rest_day: float = 0.4
    #: Share of special operations reported with one fault (no/late/bad gas test, no guardian,
    #: a permit too long); each fault raises one alarm.
    op_fault: float = 0.08
    #: Share of operations interrupted once (resumed within the limit or after a new analysis).
    op_pause: float = 0.2
    maintenance_per_day: float = 0.3
    shutdowns_per_day: float = 1 / 30
    trials_per_day: float = 1 / 365
    #: Share of restarts reported without waiting for approval, trials with an invalid period,
    #: days whose operations differ from the commitment.
    unapproved_restart: float = 0.05
    trial_invalid: float = 0.2
    commitment_off: float = 0.02
    malformed_share: float = 0.002


NORMAL = SimProfile("normal", message_every_s=30.0, paced=True)
STORM = SimProfile("storm", message_every_s=3.0, paced=False, malformed_share=0.01)
PROFILES = {p.name: p for p in (NORMAL, STORM)}
