/* recursion.c - deep-ish recursion on the C stack and the 6502 hardware stack:
** fibonacci, Ackermann, towers of Hanoi and a recursive quicksort. */
#include <stdio.h>

static unsigned calls;

static unsigned fib (unsigned n)
{
    ++calls;
    return n < 2 ? n : fib (n - 1) + fib (n - 2);
}

static unsigned ack (unsigned m, unsigned n)
{
    ++calls;
    if (m == 0) {
        return n + 1;
    }
    if (n == 0) {
        return ack (m - 1, 1);
    }
    return ack (m - 1, ack (m, n - 1));
}

static unsigned long moves;

static void hanoi (unsigned char n, char from, char to, char via)
{
    if (n == 0) {
        return;
    }
    hanoi (n - 1, from, via, to);
    ++moves;
    if (n >= 9) {
        printf ("  move disc %u from %c to %c\n", n, from, to);
    }
    hanoi (n - 1, via, to, from);
}

#define N 48
static int data[N];

static void quicksort (int* a, int lo, int hi)
{
    int i, j, pivot, t;

    if (lo >= hi) {
        return;
    }
    pivot = a[(lo + hi) / 2];
    i = lo;
    j = hi;
    while (i <= j) {
        while (a[i] < pivot) ++i;
        while (a[j] > pivot) --j;
        if (i <= j) {
            t = a[i]; a[i] = a[j]; a[j] = t;
            ++i;
            --j;
        }
    }
    quicksort (a, lo, j);
    quicksort (a, i, hi);
}

int main (void)
{
    unsigned i, m, n;
    unsigned seed = 12345;

    for (i = 0; i <= 18; i += 6) {
        calls = 0;
        printf ("fib(%u) = %u (%u calls)\n", i, fib (i), calls);
    }

    for (m = 0; m <= 3; ++m) {
        for (n = 0; n <= 3; ++n) {
            if (m == 3 && n > 3) break;
            calls = 0;
            printf ("ack(%u,%u) = %u (%u calls)\n", m, n, ack (m, n), calls);
        }
    }

    moves = 0;
    printf ("hanoi(10):\n");
    hanoi (10, 'A', 'C', 'B');
    printf ("hanoi(10) moves = %lu\n", moves);

    for (i = 0; i < N; ++i) {
        seed = seed * 25173u + 13849u;
        data[i] = (int) (seed >> 4) - 2048;
    }
    quicksort (data, 0, N - 1);
    printf ("sorted:");
    for (i = 0; i < N; ++i) {
        if (i % 12 == 0) printf ("\n ");
        printf (" %5d", data[i]);
    }
    printf ("\n");
    for (i = 1; i < N; ++i) {
        if (data[i - 1] > data[i]) {
            printf ("NOT SORTED at %u\n", i);
            return 1;
        }
    }
    printf ("sorted ok\n");
    return 0;
}
