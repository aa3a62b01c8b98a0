import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from inventory.models import Item  # noqa: E402
from inventory.report import format_report  # noqa: E402


class ReportTest(unittest.TestCase):
    def test_sorted_by_name(self):
        report = format_report([Item("nails", 100), Item("bolts", 12)])
        self.assertLess(report.index("bolts"), report.index("nails"))

    def test_low_stock_marked(self):
        report = format_report([Item("hinges", 3)])
        self.assertTrue(report.endswith(" !"))


if __name__ == "__main__":
    unittest.main()
