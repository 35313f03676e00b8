"""Tests: python3 -m unittest discover -s plugins/scaling-knee"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scaling_knee as plugin  # noqa: E402


def row(strategy, workers, median):
    return {"strategy": strategy, "workers": workers, "median_wall_s": median,
            "ci_low_s": median * 0.98, "ci_high_s": median * 1.02, "speedup": 0}


class ScalingKneeTests(unittest.TestCase):
    def advise(self, experiment=None, analysis=None):
        return plugin.handle({"type": "advise", "analysis": analysis or {}, "experiment": experiment})["advice"]

    def test_fewer_workers_within_ten_percent(self):
        [a] = self.advise({"summary": [row("serial", 1, 10), row("processes", 2, 5.5), row("processes", 4, 3.2),
                                       row("processes", 8, 3.0), row("threads", 8, 9)]})
        self.assertEqual((a["strategy"], a["workers"], a["weight"]), ("processes", 4, 0.5))
        self.assertEqual(a["reason"]["factor"], "scaling")
        self.assertEqual(a["reason"]["metrics"]["best_workers"], 8)
        self.assertIn("4 is enough", a["reason"]["text"])

    def test_still_scaling_casts_no_vote(self):
        [a] = self.advise({"summary": [row("serial", 1, 10), row("threads", 2, 5.2), row("threads", 4, 2.6)]})
        self.assertIsNone(a["strategy"])
        self.assertIn("kept scaling up to 4 workers", a["reason"]["text"])

    def test_serial_fastest_falls_back_to_the_profile(self):
        analysis = {"overall": {"cores": 4, "parallelism": 1.0, "states": {"on_cpu": 0.5, "sleep": 0.5}}}
        [a] = self.advise({"summary": [row("serial", 1, 1), row("threads", 2, 1.5)]}, analysis)
        self.assertIn("Not measured yet", a["reason"]["text"])

    def test_amdahl_bound_and_knee_without_experiment(self):
        analysis = {"overall": {"cores": 8, "parallelism": 1.0, "states": {"on_cpu": 0.8, "sleep": 0.2}}}
        [a] = self.advise(None, analysis)
        self.assertIsNone(a["strategy"])
        self.assertEqual(a["weight"], 0)
        m = a["reason"]["metrics"]
        self.assertAlmostEqual(m["amdahl_cap"], 1 / (0.2 + 0.8 / 8), places=3)
        # speed-ups 1, 1.67, 2.14, 2.5, 2.78: the step to 5 workers is +11%, to 6 only +9%.
        self.assertEqual(m["knee_workers"], 5)


if __name__ == "__main__":
    unittest.main()
