#ifndef STACK_H
#define STACK_H

#define STACK_MAX 64

/* A fixed-size stack of ints; items[0 .. size-1], the top is items[size-1]. */
struct stack {
    int items[STACK_MAX];
    int size;
};

/* Makes s empty. */
void stack_init(struct stack *s);

/* Pushes v; returns 0, or -1 if the stack is full. */
int stack_push(struct stack *s, int v);

/* Removes the top item and stores it in *out; returns 0, or -1 if the
 * stack is empty (then *out is not touched). */
int stack_pop(struct stack *s, int *out);

#endif
