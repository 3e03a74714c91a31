/* Bit twiddling, long arithmetic and BCD-style digits on the 65C02 (cl65 -t sim65c02): a CRC-16,
   a population count, a bit-reversed table and a 32-bit Fibonacci run, printed as sim65 prints. */
#include <stdio.h>

static unsigned char reversed[16];

static unsigned int crc16(const unsigned char *data, unsigned int length)
{
    unsigned int crc = 0xFFFF;
    unsigned char bit;
    while (length--) {
        crc ^= (unsigned int)*data++ << 8;
        for (bit = 0; bit < 8; ++bit)
            crc = crc & 0x8000 ? crc << 1 ^ 0x1021 : crc << 1;
    }
    return crc;
}

static unsigned char population(unsigned long value)
{
    unsigned char count = 0;
    while (value) {
        value &= value - 1;
        ++count;
    }
    return count;
}

int main(void)
{
    static const unsigned char text[] = "The quick brown fox jumps over the lazy dog";
    unsigned long a = 0, b = 1, next;
    unsigned char i, j, bits = 0;

    for (i = 0; i < 16; ++i) {
        reversed[i] = 0;
        for (j = 0; j < 4; ++j)
            if (i & 1 << j)
                reversed[i] |= 8 >> j;
    }
    printf("crc16: %04x\n", crc16(text, sizeof text - 1));
    for (i = 0; i < 16; ++i)
        printf("%x", reversed[i]);
    printf("\n");
    for (i = 0; i < 45; ++i) {
        bits += population(a);
        next = a + b;
        a = b;
        b = next;
    }
    printf("fib(45) = %lu, set bits on the way: %u\n", a, bits);
    return bits == 0;
}
