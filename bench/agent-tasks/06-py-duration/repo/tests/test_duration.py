import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from duration import format_duration, parse_duration  # noqa: E402


class DurationTest(unittest.TestCase):
    def test_hours(self):
        self.assertEqual(parse_duration("2h"), 7200)

    def test_hours_and_minutes(self):
        self.assertEqual(parse_duration("1h30m"), 5400)

    def test_seconds(self):
        self.assertEqual(parse_duration("45s"), 45)

    def test_rejects_garbage(self):
        with self.assertRaises(ValueError):
            parse_duration("ten minutes")

    def test_format(self):
        self.assertEqual(format_duration(5400), "1h30m")


if __name__ == "__main__":
    unittest.main()
