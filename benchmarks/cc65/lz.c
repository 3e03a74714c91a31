/* lz.c - an LZSS compressor and decompressor, round trip over generated text.
**
** Usage: lz.sim [ROUNDS]   (default 4)
** Round r fills a 2048-byte buffer with words picked by a 16-bit linear congruential
** generator seeded with r (English-like text with some digits: compressible, not trivially),
** compresses it, decompresses the result and checks that the round trip gives the input back.
** It prints the total input and compressed sizes and a checksum of the decompressed bytes;
** exit status 1 if a round trip differs from its input.
**
** Format: a flag byte before every 8 items, bit i (from bit 0) set when item i is a match;
** a literal is its byte, a match two bytes: the distance back - 1 (1..256) and the length - 3
** (3..66).  The compressor finds the longest match in the window by brute force (the nearest
** of equal length), which is where the time goes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE    2048
#define WINDOW  256
#define MINLEN  3
#define MAXLEN  66
#define ROUNDS  4

static unsigned char input[SIZE];
static unsigned char packed[SIZE + SIZE / 8 + 8];
static unsigned char output[SIZE];

static const char* const words[16] = {
    "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ",
    "and ", "a ", "compressor ", "finds ", "matches ", "in ", "text, ", "again. "
};

/* Fill the input with words (and now and then a digit) from an LCG seeded with seed. */
static void fill (unsigned seed)
{
    unsigned state = seed * 7919U + 1;
    unsigned i = 0;
    const char* w;

    while (i < SIZE) {
        state = state * 25173U + 13849U;
        if (((state >> 4) & 7) == 0) {
            input[i++] = (unsigned char) ('0' + (state >> 12) % 10);
            continue;
        }
        for (w = words[(state >> 8) & 15]; *w && i < SIZE; ++w) {
            input[i++] = *w;
        }
    }
}

/* Compress n bytes of in into out; returns the compressed size. */
static unsigned compress (const unsigned char* in, unsigned n, unsigned char* out)
{
    unsigned i = 0, o = 0, flag = 0, j, len, max, best, distance;
    unsigned char bit = 0;

    while (i < n) {
        if (bit == 0) {
            flag = o++;
            out[flag] = 0;
            bit = 1;
        }
        best = 0;
        distance = 0;
        max = n - i < MAXLEN ? n - i : MAXLEN;
        for (j = i > WINDOW ? i - WINDOW : 0; j < i; ++j) {
            if (in[j] == in[i]) {
                for (len = 1; len < max && in[j + len] == in[i + len]; ++len) {
                }
                if (len >= best) {
                    best = len;
                    distance = i - j;
                }
            }
        }
        if (best >= MINLEN) {
            out[flag] |= bit;
            out[o++] = (unsigned char) (distance - 1);
            out[o++] = (unsigned char) (best - MINLEN);
            i += best;
        } else {
            out[o++] = in[i++];
        }
        bit <<= 1;
    }
    return o;
}

/* Decompress n bytes of in into out; returns the decompressed size. */
static unsigned decompress (const unsigned char* in, unsigned n, unsigned char* out)
{
    unsigned i = 0, o = 0, from, len;
    unsigned char flags = 0, bit = 0;

    while (i < n) {
        if (bit == 0) {
            flags = in[i++];
            bit = 1;
        }
        if (flags & bit) {
            from = o - (in[i] + 1);
            len = in[i + 1] + MINLEN;
            i += 2;
            while (len--) {
                out[o++] = out[from++];
            }
        } else {
            out[o++] = in[i++];
        }
        bit <<= 1;
    }
    return o;
}

int main (int argc, char* argv[])
{
    unsigned rounds = ROUNDS, r, i, n, size, check = 0;
    unsigned long total = 0, compressed = 0;

    if (argc > 1) {
        rounds = atoi (argv[1]);
    }
    for (r = 0; r < rounds; ++r) {
        fill (r);
        n = compress (input, SIZE, packed);
        size = decompress (packed, n, output);
        if (size != SIZE || memcmp (input, output, SIZE) != 0) {
            printf ("lz: round %u: the round trip differs from the input\n", r + 1);
            return 1;
        }
        for (i = 0; i < SIZE; ++i) {
            check = ((check << 1) | (check >> 15)) ^ output[i];
        }
        total += SIZE;
        compressed += n;
    }
    printf ("lz: %lu bytes -> %lu, checksum %04x, rounds %u\n", total, compressed, check, rounds);
    return 0;
}
