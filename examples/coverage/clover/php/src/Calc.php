<?php

declare(strict_types=1);

namespace App;

final class Calc
{
    public function add(int $a, int $b): int
    {
        return $a + $b;
    }

    public function divide(int $a, int $b): int
    {
        if ($b === 0) {
            throw new \InvalidArgumentException('b must not be 0');
        }
        return intdiv($a, $b);
    }

    public function clamp(int $x, int $lo, int $hi): int
    {
        if ($x < $lo) {
            return $lo;
        }
        return min($x, $hi);
    }

    public function sum(int $n): int
    {
        $total = 0;
        for ($i = 0; $i < $n; $i++) {
            $total += $i;
        }
        return $total;
    }
}
