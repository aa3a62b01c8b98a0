#ifndef WORDS_H
#define WORDS_H

/* Number of words in s: maximal runs of characters other than
 * space, tab and newline. */
int count_words(const char *s);

/* Number of lines in s: newline characters, plus one if the text
 * does not end with a newline. */
int count_lines(const char *s);

#endif
