package com.example;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class CalcTest {
    @Test
    public void adds() {
        assertEquals(3, new Calc().add(1, 2));
    }

    @Test
    public void divides() {
        assertEquals(2, new Calc().divide(4, 2));
    }

    @Test
    public void clampsHigh() {
        assertEquals(3, new Calc().clamp(5, 0, 3));
    }

    @Test
    public void clampsLow() {
        assertEquals(0, new Calc().clamp(-1, 0, 3));
    }
}
