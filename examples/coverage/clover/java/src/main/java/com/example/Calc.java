package com.example;

public final class Calc {
    public int add(int a, int b) {
        return a + b;
    }

    public int divide(int a, int b) {
        if (b == 0) {
            throw new IllegalArgumentException("b must not be 0");
        }
        return a / b;
    }

    public int clamp(int x, int lo, int hi) {
        if (x < lo) {
            return lo;
        }
        return x > hi ? hi : x;
    }

    public int sum(int n) {
        int total = 0;
        for (int i = 0; i < n; i++) {
            total += i;
        }
        return total;
    }
}
