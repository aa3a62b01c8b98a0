#include <stdio.h>

#include "words.h"

static int failures = 0;

static void expect(const char *what, int got, int want)
{
    if (got != want) {
        printf("FAIL %s = %d, want %d\n", what, got, want);
        failures++;
    }
}

int main(void)
{
    expect("count_words(\"one two three\\n\")", count_words("one two three\n"), 3);
    expect("count_words(\"  spaced   out \")", count_words("  spaced   out "), 2);
    expect("count_lines(\"a\\nb\\n\")", count_lines("a\nb\n"), 2);
    expect("count_lines(\"a\\nb\")", count_lines("a\nb"), 2);
    if (failures)
        return 1;
    printf("all tests passed\n");
    return 0;
}
