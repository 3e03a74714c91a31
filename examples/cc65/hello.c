/* hello.c - the smallest cc65/sim65 test: a few lines of printf, return 0. */
#include <stdio.h>

int main (void)
{
    int i;

    printf ("Hello from cc65 on sim65!\n");
    for (i = 1; i <= 3; ++i) {
        printf ("line %d of %d: %s\n", i, 3, i == 2 ? "middle" : "edge");
    }
    puts ("puts adds a newline");
    printf ("%s %c%c %u %x %5d|%-5d|\n", "formats:", 'o', 'k', 65535u, 0xBEEF, 42, -7);
    printf ("bye\n");
    return 0;
}
