/* A C program to debug by its source: built with -g, its debug info and labels beside it
   (tests/test_debugging.py sets a breakpoint on a line, steps over calls, lists the source). */
#include <stdio.h>

static unsigned int square(unsigned int x)
{
    return x * x;
}

int main(void)
{
    unsigned int i, total = 0;
    for (i = 0; i < 10; ++i) {
        total += square(i);
    }
    printf("total %u\n", total);
    return 0;
}
