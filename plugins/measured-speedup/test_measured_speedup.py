"""Tests: python3 -m unittest discover -s plugins/measured-speedup"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measured_speedup as plugin  # noqa: E402


def row(strategy, workers, median, spread=0.02):
    return {"strategy": strategy, "workers": workers, "median_wall_s": median,
            "ci_low_s": median * (1 - spread), "ci_high_s": median * (1 + spread), "speedup": 0}


class MeasuredSpeedupTests(unittest.TestCase):
    def advise(self, experiment=None, analysis=None):
        return plugin.handle({"type": "advise", "analysis": analysis or {}, "experiment": experiment})["advice"]

    def test_clear_winner_gets_a_strong_vote_with_its_workers(self):
        [a] = self.advise({"summary": [row("serial", 1, 10), row("threads", 4, 9.5), row("processes", 4, 3.0)]})
        self.assertEqual((a["strategy"], a["workers"], a["weight"]), ("processes", 4, 0.9))
        self.assertEqual(a["reason"]["factor"], "measured")
        self.assertAlmostEqual(a["reason"]["metrics"]["speedup"], 10 / 3, places=3)

    def test_overlapping_intervals_vote_weakly(self):
        [a] = self.advise({"summary": [row("serial", 1, 10, 0.2), row("threads", 2, 8.5, 0.2)]})
        self.assertEqual((a["strategy"], a["weight"]), ("threads", 0.4))
        self.assertIn("overlap", a["reason"]["text"])

    def test_nothing_beats_serial(self):
        [a] = self.advise({"summary": [row("serial", 1, 10), row("threads", 4, 10.2)]})
        self.assertEqual(a["strategy"], "serial")

    def test_without_experiment_no_vote_but_the_amdahl_cap(self):
        analysis = {"overall": {"cores": 4, "parallelism": 1.0,
                                "states": {"on_cpu": 0.5, "runnable": 0.0, "io_wait": 0.0, "sleep": 0.5}}}
        [a] = self.advise(None, analysis)
        self.assertIsNone(a["strategy"])
        self.assertEqual(a["weight"], 0)
        self.assertAlmostEqual(a["reason"]["metrics"]["amdahl_cap"], 1 / (0.5 + 0.5 / 4), places=3)
        self.assertIn("forkcast experiment", a["reason"]["text"])


if __name__ == "__main__":
    unittest.main()
