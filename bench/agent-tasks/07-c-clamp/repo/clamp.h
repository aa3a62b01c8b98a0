#ifndef CLAMP_H
#define CLAMP_H

/* Limits value to the range [lo, hi]. Assumes lo <= hi. */
int clamp(int value, int lo, int hi);

/* Linear interpolation between a and b: t = 0 gives a, t = 100 gives b. */
int lerp_percent(int a, int b, int t);

#endif
