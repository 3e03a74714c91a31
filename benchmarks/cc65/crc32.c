/* crc32.c - the bitwise CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of a 1024-byte
** buffer that a 16-bit linear congruential generator fills, repeated.
**
** Usage: crc32.sim [ROUNDS]   (default 72)
** Round r CRCs the buffer with its first byte set to r, so no two rounds are alike; the
** program prints the CRC of the last round and the sum of all of them (mod 2^32).  Before
** the rounds it checks the CRC of "123456789" (0xCBF43926): exit status 1 if it is wrong.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE 1024
#define ROUNDS 72

static unsigned char buffer[SIZE];

/* The CRC-32 of n bytes, one bit at a time (no table: the shifts are the work measured). */
static unsigned long crc32 (const unsigned char* p, unsigned n)
{
    unsigned long crc = 0xFFFFFFFFUL;
    unsigned char bit;

    while (n--) {
        crc ^= *p++;
        for (bit = 0; bit < 8; ++bit) {
            if ((unsigned char) crc & 1) {
                crc = (crc >> 1) ^ 0xEDB88320UL;
            } else {
                crc >>= 1;
            }
        }
    }
    return crc ^ 0xFFFFFFFFUL;
}

/* Fill the buffer from a 16-bit LCG (the high byte of each state). */
static void fill (void)
{
    unsigned state = 12345;
    unsigned i;

    for (i = 0; i < SIZE; ++i) {
        state = state * 25173U + 13849U;
        buffer[i] = (unsigned char) (state >> 8);
    }
}

int main (int argc, char* argv[])
{
    unsigned rounds = ROUNDS, r;
    unsigned long crc = 0, all = 0;

    if (argc > 1) {
        rounds = atoi (argv[1]);
    }
    if (crc32 ((const unsigned char*) "123456789", 9) != 0xCBF43926UL) {
        printf ("crc32: the check value of \"123456789\" is wrong\n");
        return 1;
    }
    fill ();
    for (r = 0; r < rounds; ++r) {
        buffer[0] = (unsigned char) r;
        crc = crc32 (buffer, SIZE);
        all += crc;
    }
    printf ("crc32: last %08lx, sum of all %08lx, rounds %u\n", crc, all, rounds);
    return 0;
}
