/* tst27_interp.c - the baseline for `recomp bench`: a plain switch-dispatch TST27 interpreter.
 *
 * Deliberately ordinary, like a normal emulator core: every instruction is fetched and decoded
 * from memory each time it runs, no predecoding, no caching, no loop detection.  The registers
 * live in an array indexed by bytes read from memory, so the compiler cannot fold the loop away.
 *
 * Usage: tst27_interp PROGRAM.bin
 * stdout: the PRINT output; stderr: one line {"instructions": N, "seconds": S}, where S is the
 * wall time of the interpretation loop only (CLOCK_MONOTONIC).
 */
#define _POSIX_C_SOURCE 199309L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMORY_SIZE 4096
#define REGISTERS 32
#define FIRST_SEPARATOR 24

static uint8_t memory[MEMORY_SIZE];
static uint32_t regs[REGISTERS];

static void fail(const char *what, uint32_t pc)
{
    fflush(stdout);
    fprintf(stderr, "tst27_interp: %s at 0x%04" PRIX32 "\n", what, pc);
    exit(1);
}

static uint32_t le32(uint32_t at)
{
    return (uint32_t)memory[at] | (uint32_t)memory[at + 1] << 8 | (uint32_t)memory[at + 2] << 16
           | (uint32_t)memory[at + 3] << 24;
}

static uint8_t reg_operand(uint32_t at, uint32_t pc)
{
    uint8_t r = memory[at];
    if (r >= REGISTERS)
        fail("register number out of range", pc);
    return r;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PROGRAM.bin\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t size = fread(memory, 1, MEMORY_SIZE, f);
    int extra = fgetc(f);
    fclose(f);
    if (extra != EOF) {
        fprintf(stderr, "tst27_interp: %s is larger than %d bytes\n", argv[1], MEMORY_SIZE);
        return 1;
    }
    if (size == 0) {
        fprintf(stderr, "tst27_interp: %s is empty\n", argv[1]);
        return 1;
    }

    uint64_t instructions = 0;
    uint32_t pc = 0;
    double start = now();
    for (;;) {
        if (pc >= MEMORY_SIZE)
            fail("execution ran off the end of memory", pc);
        instructions++;
        switch (memory[pc]) {
        case 0x00: /* SET r, imm32 */
            if (pc + 6 > MEMORY_SIZE)
                fail("truncated SET", pc);
            regs[reg_operand(pc + 1, pc)] = le32(pc + 2);
            pc += 6;
            break;
        case 0x01: { /* ADD r1, r2 */
            if (pc + 3 > MEMORY_SIZE)
                fail("truncated ADD", pc);
            uint8_t r1 = reg_operand(pc + 1, pc), r2 = reg_operand(pc + 2, pc);
            regs[r1] += regs[r2];
            pc += 3;
            break;
        }
        case 0x02: { /* JLT r1, r2, addr32 */
            if (pc + 7 > MEMORY_SIZE)
                fail("truncated JLT", pc);
            uint8_t r1 = reg_operand(pc + 1, pc), r2 = reg_operand(pc + 2, pc);
            uint32_t target = le32(pc + 3);
            if (target >= MEMORY_SIZE)
                fail("jump target outside memory", pc);
            pc = regs[r1] < regs[r2] ? target : pc + 7;
            break;
        }
        case 0x03: { /* PRINT r */
            if (pc + 2 > MEMORY_SIZE)
                fail("truncated PRINT", pc);
            uint8_t r = reg_operand(pc + 1, pc);
            if (r < FIRST_SEPARATOR)
                printf(" r%02u = %08" PRIX32 "\n", (unsigned)r, regs[r]);
            else
                fputs(" \n", stdout);
            pc += 2;
            break;
        }
        case 0x04: /* END */
            goto done;
        default:
            fail("unknown opcode", pc);
        }
    }
done:;
    double seconds = now() - start;
    fflush(stdout);
    fprintf(stderr, "{\"instructions\": %" PRIu64 ", \"seconds\": %.9f}\n", instructions, seconds);
    return 0;
}
