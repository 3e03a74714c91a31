/* sieve.c - the sieve of Eratosthenes over 8192 byte flags, repeated.
**
** Usage: sieve.sim [ROUNDS]   (default 42; 20x that is the long run of `recomp bench`)
** Prints the number of primes below 8192 and the rounds run; exit status 1 if a round
** counts differently from the first (or the count is not 1028).
*/
#include <stdio.h>
#include <stdlib.h>

#define SIZE 8192
#define ROUNDS 42
#define PRIMES 1028     /* primes below 8192 */

static unsigned char flags[SIZE];

/* One sieve: flags[i] ends 1 exactly when i is prime; returns how many are. */
static unsigned sieve (void)
{
    register unsigned char* f = flags;
    unsigned i, k, count;

    for (i = 0; i < SIZE; ++i) {
        f[i] = 1;
    }
    f[0] = f[1] = 0;
    for (i = 2; i * i < SIZE; ++i) {
        if (f[i]) {
            for (k = i * i; k < SIZE; k += i) {
                f[k] = 0;
            }
        }
    }
    count = 0;
    for (i = 0; i < SIZE; ++i) {
        if (f[i]) {
            ++count;
        }
    }
    return count;
}

int main (int argc, char* argv[])
{
    unsigned rounds = ROUNDS, r, count = 0, first = 0;

    if (argc > 1) {
        rounds = atoi (argv[1]);
    }
    for (r = 0; r < rounds; ++r) {
        count = sieve ();
        if (r == 0) {
            first = count;
        } else if (count != first) {
            printf ("sieve: round %u counted %u primes, round 1 %u\n", r + 1, count, first);
            return 1;
        }
    }
    printf ("sieve: %u primes below %u, rounds %u\n", count, SIZE, rounds);
    return (rounds > 0 && count != PRIMES) ? 1 : 0;
}
