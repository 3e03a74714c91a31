/* longmath.c - 32-bit long / unsigned long arithmetic: multiply, divide, modulo,
** shifts, a bitwise CRC-32 and factorials up to 12!, printed with %ld/%lu/%lx. */
#include <stdio.h>
#include <limits.h>

static unsigned long crc32 (const char* s)
{
    unsigned long crc = 0xFFFFFFFFUL;
    unsigned char bit;

    while (*s) {
        crc ^= (unsigned char) *s++;
        for (bit = 0; bit < 8; ++bit) {
            if (crc & 1) {
                crc = (crc >> 1) ^ 0xEDB88320UL;
            } else {
                crc >>= 1;
            }
        }
    }
    return crc ^ 0xFFFFFFFFUL;
}

int main (void)
{
    long a, b;
    unsigned long u, v, f;
    unsigned i;

    printf ("sizeof(long)=%u LONG_MAX=%ld LONG_MIN=%ld ULONG_MAX=%lu\n",
            (unsigned) sizeof (long), LONG_MAX, LONG_MIN, ULONG_MAX);

    /* multiplication */
    a = 123456L;  b = 789L;
    printf ("%ld * %ld = %ld\n", a, b, a * b);
    a = -12345L;  b = 6789L;
    printf ("%ld * %ld = %ld\n", a, b, a * b);
    u = 0xDEADBEEFUL; v = 0x12345UL;
    printf ("%lx * %lx = %lx (mod 2^32)\n", u, v, u * v);
    u = 65535UL;
    printf ("%lu * %lu = %lu\n", u, u, u * u);

    /* division and modulo, signed and unsigned */
    a = 2147483647L; b = 12345L;
    printf ("%ld / %ld = %ld, %% = %ld\n", a, b, a / b, a % b);
    a = -1000000L; b = 7L;
    printf ("%ld / %ld = %ld, %% = %ld\n", a, b, a / b, a % b);
    a = 1000000L; b = -7L;
    printf ("%ld / %ld = %ld, %% = %ld\n", a, b, a / b, a % b);
    u = 4000000000UL; v = 65536UL;
    printf ("%lu / %lu = %lu, %% = %lu\n", u, v, u / v, u % v);
    u = 0xFFFFFFFFUL; v = 10UL;
    printf ("%lu / %lu = %lu, %% = %lu\n", u, v, u / v, u % v);

    /* shifts */
    u = 1UL;
    printf ("1 << 31 = %lx, 1 << 16 = %lx\n", u << 31, u << 16);
    u = 0x80000000UL;
    printf ("%lx >> 7 = %lx, >> 31 = %lu\n", u, u >> 7, u >> 31);
    a = -256L;
    printf ("%ld >> 4 = %ld, %ld << 20 = %ld\n", a, a >> 4, a, a << 20);
    u = 0x12345678UL;
    for (i = 0; i < 32; i += 8) {
        printf ("0x%08lx rotl %2u = 0x%08lx\n", u, i, i ? (u << i) | (u >> (32 - i)) : u);
    }

    /* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) */
    printf ("crc32(\"123456789\") = %08lx\n", crc32 ("123456789"));
    printf ("crc32(\"The quick brown fox jumps over the lazy dog\") = %08lx\n",
            crc32 ("The quick brown fox jumps over the lazy dog"));

    /* factorials */
    f = 1;
    for (i = 1; i <= 12; ++i) {
        f *= i;
        printf ("%2u! = %lu (0x%lx)\n", i, f, f);
    }

    /* a 32-bit linear congruential generator */
    u = 1UL;
    for (i = 0; i < 5; ++i) {
        u = u * 1103515245UL + 12345UL;
        printf ("lcg[%u] = %lu\n", i, u);
    }
    return 0;
}
