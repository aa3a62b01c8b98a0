#include "words.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* A word ends at the first space after it; count it there. */
int count_words(const char *s)
{
    int words = 0;
    int in_word = 0;
    for (; *s; s++) {
        if (is_space(*s)) {
            if (in_word)
                words++;
            in_word = 0;
        } else {
            in_word = 1;
        }
    }
    return words;
}

int count_lines(const char *s)
{
    int lines = 0;
    char last = '\n';
    for (; *s; s++) {
        if (*s == '\n')
            lines++;
        last = *s;
    }
    return last == '\n' ? lines : lines + 1;
}
