#include "clamp.h"

/* Returns lo if value is below the range, hi if it is above it,
 * and value itself otherwise. */
int clamp(int value, int lo, int hi)
{
    if (value < lo)
        return lo;
    if (value > hi)
        return value;
    return value;
}

/* t is clamped to [0, 100] first, so the result always lies between a and b. */
int lerp_percent(int a, int b, int t)
{
    t = clamp(t, 0, 100);
    return a + (b - a) * t / 100;
}
