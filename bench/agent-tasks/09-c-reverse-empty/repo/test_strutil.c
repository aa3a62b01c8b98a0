#include <stdio.h>
#include <string.h>

#include "strutil.h"

static int failures = 0;

static void expect(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        printf("FAIL %s = \"%s\", want \"%s\"\n", what, got, want);
        failures++;
    }
}

int main(void)
{
    char word[] = "stressed";
    char one[] = "a";
    char empty[] = "";
    char mixed[] = "Hello, World";

    expect("reverse(\"stressed\")", reverse(word), "desserts");
    expect("reverse(\"a\")", reverse(one), "a");
    printf("reverse(\"\")...\n");
    fflush(stdout);
    expect("reverse(\"\")", reverse(empty), "");
    expect("upcase(\"Hello, World\")", upcase(mixed), "HELLO, WORLD");
    if (failures)
        return 1;
    printf("all tests passed\n");
    return 0;
}
