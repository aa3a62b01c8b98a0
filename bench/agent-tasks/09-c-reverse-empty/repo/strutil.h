#ifndef STRUTIL_H
#define STRUTIL_H

/* Reverses s in place and returns s. */
char *reverse(char *s);

/* Upper-cases the ASCII letters of s in place and returns s. */
char *upcase(char *s);

#endif
