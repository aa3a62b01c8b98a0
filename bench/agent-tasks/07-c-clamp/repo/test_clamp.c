#include <stdio.h>

#include "clamp.h"

static int failures = 0;

#define EXPECT_EQ(got, want)                                                   \
    do {                                                                       \
        int g_ = (got), w_ = (want);                                           \
        if (g_ != w_) {                                                        \
            printf("FAIL %s:%d: %s = %d, want %d\n", __FILE__, __LINE__, #got, \
                   g_, w_);                                                    \
            failures++;                                                        \
        }                                                                      \
    } while (0)

int main(void)
{
    EXPECT_EQ(clamp(5, 0, 10), 5);
    EXPECT_EQ(clamp(-3, 0, 10), 0);
    EXPECT_EQ(clamp(42, 0, 10), 10);
    EXPECT_EQ(lerp_percent(0, 200, 50), 100);
    EXPECT_EQ(lerp_percent(0, 200, 150), 200);
    if (failures) {
        printf("%d failure(s)\n", failures);
        return 1;
    }
    printf("all tests passed\n");
    return 0;
}
