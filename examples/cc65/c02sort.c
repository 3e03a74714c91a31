/* Sorting and searching, built for the 65C02 (cl65 -t sim65c02): cc65's runtime and this code
   then use the 65C02's own instructions (STZ, BRA, PHX/PLX, INC A, (zp) addressing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT 300

static unsigned int values[COUNT];
static const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date", "kiwi", "lime", "mango", "grape"};

static int compare_uint(const void *a, const void *b)
{
    unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
    return x < y ? -1 : x > y;
}

static int compare_word(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void)
{
    unsigned int i, seed = 12345, checksum = 0;
    unsigned int *found;
    unsigned int key;

    for (i = 0; i < COUNT; ++i) {
        seed = seed * 25173u + 13849u;
        values[i] = seed;
    }
    qsort(values, COUNT, sizeof values[0], compare_uint);
    for (i = 1; i < COUNT; ++i) {
        if (values[i - 1] > values[i]) {
            printf("not sorted at %u\n", i);
            return 1;
        }
        checksum = (checksum << 1 | checksum >> 15) ^ values[i];
    }
    printf("sorted %u numbers: first %u, last %u, checksum %04x\n", COUNT, values[0], values[COUNT - 1], checksum);
    key = values[COUNT / 3];
    found = bsearch(&key, values, COUNT, sizeof values[0], compare_uint);
    printf("bsearch %u: index %d\n", key, found ? (int)(found - values) : -1);
    qsort(words, sizeof words / sizeof words[0], sizeof words[0], compare_word);
    for (i = 0; i < sizeof words / sizeof words[0]; ++i)
        printf("%s%c", words[i], i + 1 < sizeof words / sizeof words[0] ? ' ' : '\n');
    return 0;
}
