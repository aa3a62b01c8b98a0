import unittest

from text import slugify, truncate


class TextTest(unittest.TestCase):
    def test_slugify(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")

    def test_slugify_digits(self):
        self.assertEqual(slugify("Top 10 tips"), "top-10-tips")

    def test_truncate(self):
        self.assertEqual(truncate("abcdefgh", 6), "abc...")
        self.assertEqual(truncate("abc", 6), "abc")


if __name__ == "__main__":
    unittest.main()
