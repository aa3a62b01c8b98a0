#include "stack.h"

void stack_init(struct stack *s)
{
    s->size = 0;
}

int stack_push(struct stack *s, int v)
{
    if (s->size == STACK_MAX)
        return -1;
    s->items[s->size++] = v;
    return 0;
}

int stack_pop(struct stack *s, int *out)
{
    if (s->size == 0)
        return -1;
    *out = s->items[--s->size];
    return 0;
}
