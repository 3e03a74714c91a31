/* sandbox.c - tries to open paths outside the working directory.
** The real sim65 opens whatever host path it is given, so there every open succeeds
** (and ../recomp-escape.txt is created next to the working directory).
** A confining simulator (recomp's sim65 machine) must refuse all of them: every line NULL. */
#include <stdio.h>

static void try_open (const char* path, const char* mode)
{
    FILE* f = fopen (path, mode);

    printf ("fopen(\"%s\", \"%s\"): %s\n", path, mode, f == NULL ? "NULL" : "opened");
    if (f != NULL) {
        if (mode[0] == 'w') {
            fprintf (f, "written by sandbox.c\n");
        }
        fclose (f);
    }
}

int main (void)
{
    try_open ("../recomp-escape.txt", "w");
    try_open ("/etc/passwd", "r");
    try_open ("../../../../../../../../../../etc/passwd", "r");
    printf ("done\n");
    return 0;
}
