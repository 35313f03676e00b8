"""Tests: python3 -m unittest discover -s plugins/markdown"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import markdown_report as plugin  # noqa: E402

ANALYSIS = {
    "profile": {"command": ["python3", "job.py"], "duration_s": 2.5, "rate_hz": 100, "cores": 4, "samples": 1000,
                "threads": 5, "processes": 1},
    "overall": {"states": {"on_cpu": 0.6, "io_wait": 0.3, "sleep": 0.1}, "parallelism": 2.4, "cores": 4,
                "peak_parallelism": 4, "starved_tick_share": 0.05},
    "recommendation": {"strategy": "threads", "workers": 8, "confidence": 0.81,
                       "reasons": [{"factor": "task_type", "text": "I/O-bound | mostly waiting on sockets", "metrics": {}}]},
    "findings": [{"source": "pickle-cost", "id": "x", "severity": "warning", "factor": "ipc", "title": "Pickling costs 12%",
                  "detail": "by site", "metrics": {}, "stacks": [["main", "submit"]]},
                 {"source": "gil", "id": "y", "severity": "critical", "factor": "gil", "title": "GIL held", "detail": "d",
                  "metrics": {}, "stacks": []}],
    "locks": [], "errors": ["analyzer broken: timed out after 1 s"],
}


class MarkdownTests(unittest.TestCase):
    def test_sections_in_order_with_escaping(self):
        md = plugin.render(ANALYSIS, {"summary": [{"strategy": "threads", "workers": 8, "median_wall_s": 1.2,
                                                   "ci_low_s": 1.1, "ci_high_s": 1.3, "speedup": 3.1}]})
        self.assertTrue(md.startswith("## Forkcast: `python3 job.py`"))
        self.assertIn("### Recommendation: **threads × 8 workers** (confidence 0.81)", md)
        self.assertIn("I/O-bound \\| mostly", md)               # a table-safe pipe
        self.assertLess(md.index("GIL held"), md.index("Pickling costs 12%"))   # critical first
        self.assertIn("| threads | 8 | 1.20 s | 1.10–1.30 s | 3.10× |", md)
        self.assertIn("| 60% | 0% | 0% | 0% | 30% | 10% | 0% | 0% |", md)
        self.assertIn("timed out after 1 s", md)

    def test_needs_an_analysis(self):
        with self.assertRaises(ValueError):
            plugin.handle({"type": "render", "analysis": None})


if __name__ == "__main__":
    unittest.main()
