import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from mailer import daily_mail  # noqa: E402
from report import summarize, total  # noqa: E402

ORDERS = [{"id": 1, "amount": 1000}, {"id": 2, "amount": 2500}]


class ReportTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(total(ORDERS), 3500)

    def test_summarize(self):
        self.assertEqual(summarize(ORDERS), {"count": 2, "total": 3500, "average": 1750})

    def test_mail(self):
        self.assertIn("Total: 35.00 EUR", daily_mail("2024-03-14", ORDERS))


if __name__ == "__main__":
    unittest.main()
