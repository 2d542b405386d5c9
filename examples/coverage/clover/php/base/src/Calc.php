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
}
