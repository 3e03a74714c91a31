/* files.c - stdio file I/O in the current directory: write, read back with fgets,
** append, read again; fopen of a missing file (NULL, errno).
** cc65 2.19's sim6502 library has no remove() (it does not link: __sysremove and
** __osmaperrno are unresolved), so the file is truncated on each run instead of removed. */
#include <stdio.h>
#include <errno.h>
#include <string.h>

#define NAME "recomp-test.txt"

static int dump (const char* title)
{
    FILE* f;
    char line[80];
    int n = 0;

    f = fopen (NAME, "r");
    if (f == NULL) {
        printf ("%s: fopen(\"%s\", \"r\") failed, errno=%d\n", title, NAME, errno);
        return -1;
    }
    printf ("%s:\n", title);
    while (fgets (line, sizeof line, f) != NULL) {
        ++n;
        printf ("  %d: %s", n, line);
        if (strchr (line, '\n') == NULL) {
            printf ("  (no newline)\n");
        }
    }
    printf ("  feof=%d ferror=%d\n", feof (f) != 0, ferror (f) != 0);
    printf ("  fclose=%d, %d lines\n", fclose (f), n);
    return n;
}

int main (void)
{
    FILE* f;
    int i, r;

    f = fopen (NAME, "w");
    if (f == NULL) {
        printf ("fopen(\"%s\", \"w\") failed, errno=%d\n", NAME, errno);
        return 1;
    }
    printf ("fopen(\"%s\", \"w\") opened\n", NAME);
    for (i = 1; i <= 4; ++i) {
        r = fprintf (f, "line %d: %d squared is %d\n", i, i, i * i);
        printf ("fprintf returned %d\n", r);
    }
    r = fputs ("last line without newline", f);
    printf ("fputs returned %d\n", r >= 0 ? 0 : r);
    printf ("fclose=%d\n", fclose (f));

    dump ("after write");

    f = fopen (NAME, "a");
    if (f == NULL) {
        printf ("fopen(\"%s\", \"a\") failed, errno=%d\n", NAME, errno);
        return 1;
    }
    fprintf (f, "\nappended line A\n");
    fprintf (f, "appended line B\n");
    printf ("append fclose=%d\n", fclose (f));

    dump ("after append");

    errno = 0;
    f = fopen ("no-such-file-recomp.txt", "r");
    printf ("fopen of a missing file: %s, errno=%d\n", f == NULL ? "NULL" : "opened", errno);
    if (f != NULL) {
        fclose (f);
    }
    return 0;
}
