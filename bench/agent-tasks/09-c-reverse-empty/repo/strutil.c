#include <string.h>

#include "strutil.h"

/* Swaps characters from both ends towards the middle. */
char *reverse(char *s)
{
    size_t i = 0;
    size_t j = strlen(s) - 1;
    while (i < j) {
        char tmp = s[i];
        s[i] = s[j];
        s[j] = tmp;
        i++;
        j--;
    }
    return s;
}

char *upcase(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    }
    return s;
}
