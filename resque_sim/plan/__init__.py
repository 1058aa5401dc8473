"""``resque-sim plan``: a capacity plan from what a deployment's workers recorded in Redis.

:func:`make_plan` observes (:mod:`.observed`), fits (:mod:`.fit`, :mod:`.build`), writes ``plan.yaml``
and sweeps each deployed pool on it (:mod:`.run`, :mod:`.pools`); :mod:`.report` writes report.html;
:mod:`.slo_text` parses the compact ``--slo`` form. See docs/planning.md.
"""

from resque_sim.plan.build import PlanSettings
from resque_sim.plan.observed import NothingRecordedError
from resque_sim.plan.run import PlanOutcome, make_plan
from resque_sim.plan.slo_text import SloTextError, parse_slo

__all__ = ["NothingRecordedError", "PlanOutcome", "PlanSettings", "SloTextError", "make_plan", "parse_slo"]
