/* matmul.c - 16x16 matrix multiply of 16-bit ints, repeated.
**
** Usage: matmul.sim [ROUNDS]   (default 40)
** Round r fills A and B with pseudo-random small values (-8..7) seeded with r, computes
** C = A * B and folds C into a 16-bit checksum.  Each round checks that the sum of C's elements equals
** the sum over k of (column k of A's sum) * (row k of B's sum): exit status 1 if not.
** It prints the checksum and the sum of the last C.
*/
#include <stdio.h>
#include <stdlib.h>

#define N 16
#define ROUNDS 40

static int a[N][N], b[N][N], c[N][N];

/* Fill A and B for round r from a 16-bit LCG seeded with r. */
static void fill (unsigned r)
{
    unsigned i, j, state = r * 7919U + 1;

    for (i = 0; i < N; ++i) {
        for (j = 0; j < N; ++j) {
            state = state * 25173U + 13849U;
            a[i][j] = (int) ((state >> 8) & 15) - 8;
            state = state * 25173U + 13849U;
            b[i][j] = (int) ((state >> 8) & 15) - 8;
        }
    }
}

/* C = A * B, the textbook triple loop. */
static void multiply (void)
{
    unsigned i, j, k;
    int sum;

    for (i = 0; i < N; ++i) {
        for (j = 0; j < N; ++j) {
            sum = 0;
            for (k = 0; k < N; ++k) {
                sum += a[i][k] * b[k][j];
            }
            c[i][j] = sum;
        }
    }
}

/* The sum of C's elements, from C, and (into *expected) from A's column and B's row sums. */
static long total (long* expected)
{
    unsigned i, k;
    long sum = 0;
    int column, row;

    *expected = 0;
    for (k = 0; k < N; ++k) {
        column = row = 0;
        for (i = 0; i < N; ++i) {
            column += a[i][k];
            row += b[k][i];
            sum += c[k][i];
        }
        *expected += (long) column * row;
    }
    return sum;
}

int main (int argc, char* argv[])
{
    unsigned rounds = ROUNDS, r, i, j, check = 0;
    long sum = 0, expected;

    if (argc > 1) {
        rounds = atoi (argv[1]);
    }
    for (r = 0; r < rounds; ++r) {
        fill (r);
        multiply ();
        sum = total (&expected);
        if (sum != expected) {
            printf ("matmul: round %u: sum %ld, expected %ld\n", r + 1, sum, expected);
            return 1;
        }
        for (i = 0; i < N; ++i) {
            for (j = 0; j < N; ++j) {
                check = ((check << 1) | (check >> 15)) ^ (unsigned) c[i][j];
            }
        }
    }
    printf ("matmul: checksum %04x, last sum %ld, rounds %u\n", check, sum, rounds);
    return 0;
}
