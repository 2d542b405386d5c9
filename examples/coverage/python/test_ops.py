import unittest

from calc.ops import add, divide, grade


class OpsTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(1, 2), 3)

    def test_divide(self):
        self.assertEqual(divide(4, 2), 2)

    def test_grade(self):
        self.assertEqual(grade(95), "A")
        self.assertEqual(grade(10), "F")


if __name__ == "__main__":
    unittest.main()
