/* stdin.c - reads stdin with getchar() until EOF, echoes it upper-cased and
** counts characters, lines and words. */
#include <stdio.h>
#include <ctype.h>

int main (void)
{
    int c, last = '\n';
    unsigned chars = 0, lines = 0, words = 0;
    unsigned char inword = 0;

    printf ("--- upper-cased input ---\n");
    while ((c = getchar ()) != EOF) {
        ++chars;
        if (c == '\n') {
            ++lines;
        }
        if (isspace (c)) {
            inword = 0;
        } else if (!inword) {
            inword = 1;
            ++words;
        }
        putchar (toupper (c));
        last = c;
    }
    if (last != '\n') {
        printf ("\n(no newline at end of input)\n");
    }
    printf ("--- end of input ---\n");
    printf ("chars=%u lines=%u words=%u\n", chars, lines, words);
    return 0;
}
