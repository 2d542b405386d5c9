#include <assert.h>
#include "src/calc.h"

int main(void) {
    assert(add(1, 2) == 3);
    assert(divide(4, 2) == 2);
    assert(clamp(5, 0, 3) == 3);
    return 0;
}
