/* args.c - command-line arguments: prints argc and every argv[i], exits with status argc. */
#include <stdio.h>
#include <string.h>

int main (int argc, char* argv[])
{
    int i;

    printf ("argc=%d\n", argc);
    for (i = 0; i < argc; ++i) {
        printf ("argv[%d]=\"%s\" (length %u)\n", i, argv[i], (unsigned) strlen (argv[i]));
    }
    printf ("argv[argc] is %s\n", argv[argc] == NULL ? "NULL" : "not NULL");
    return argc;
}
