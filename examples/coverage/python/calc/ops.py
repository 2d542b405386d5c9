"""Tiny sample module for coverage fixtures."""


def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("b must not be 0")
    return a / b


def grade(score):
    if score < 0 or score > 100:
        raise ValueError("score out of range")
    if score >= 90:
        return "A"
    elif score >= 80:
        return "B"
    return "F"


def unused(x):
    total = 0
    for i in range(x):
        total += i
    return total
