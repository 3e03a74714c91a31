/* exitcodes.c - exit(N) with a non-zero status after some output; one line to stderr;
** an atexit() handler that must run before the program ends. */
#include <stdio.h>
#include <stdlib.h>

static unsigned gcd (unsigned a, unsigned b)
{
    while (b != 0) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void on_exit_handler (void)
{
    printf ("atexit handler ran\n");
}

int main (void)
{
    unsigned g, sum, i;

    atexit (on_exit_handler);

    g = gcd (1071, 462);
    printf ("gcd(1071, 462) = %u\n", g);

    sum = 0;
    for (i = 1; i <= 100; ++i) {
        sum += i;
    }
    printf ("sum(1..100) = %u\n", sum);

    fprintf (stderr, "exitcodes: this line goes to stderr\n");

    /* 5050 % 100 = 50, minus 8 -> 42 */
    printf ("calling exit(%u)\n", sum % 100 - 8);
    exit (sum % 100 - 8);

    printf ("not reached\n");
    return 0;
}
