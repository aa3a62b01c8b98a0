import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from webapp.config import load  # noqa: E402
from webapp.server import address  # noqa: E402


class ConfigTest(unittest.TestCase):
    def test_environment_overrides(self):
        settings = load({"WEBAPP_PORT": "9000", "WEBAPP_HOST": "0.0.0.0"})
        self.assertEqual(address(settings), ("0.0.0.0", 9000))

    def test_default_workers(self):
        self.assertEqual(load({})["workers"], 2)


if __name__ == "__main__":
    unittest.main()
