#include <stdio.h>

#include "stack.h"

static int failures = 0;

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
            failures++;                                                \
        }                                                              \
    } while (0)

int main(void)
{
    struct stack s;
    int v = 0;

    stack_init(&s);
    CHECK(stack_pop(&s, &v) == -1);
    CHECK(stack_push(&s, 1) == 0);
    CHECK(stack_push(&s, 2) == 0);
    CHECK(stack_pop(&s, &v) == 0 && v == 2);
    CHECK(stack_pop(&s, &v) == 0 && v == 1);
    for (int i = 0; i < STACK_MAX; i++)
        CHECK(stack_push(&s, i) == 0);
    CHECK(stack_push(&s, 99) == -1);
    if (failures)
        return 1;
    printf("all tests passed\n");
    return 0;
}
