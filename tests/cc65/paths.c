/* paths.c - a guest that probes its file sandbox, for recomp's sandbox tests.
**
** Each argument is one operation on a path, done with cc65's open/read/write/remove
** (sim65's file calls; cc65 2.19's sim6502 library has no remove()), and reported on a
** line of its own:
**   r:PATH        open for reading; print up to 40 bytes read, or -1
**   w:PATH:TEXT   open for writing (created, truncated); write TEXT; print ok or -1
**   x:PATH        open for writing with O_CREAT|O_EXCL; print ok or -1
**   R:N:PATH      open and read PATH N times; print how many opens failed and, by its
**                 first byte, how many reads found what (a race test counts the two kinds)
**   W:N:PATH      create PATH N times (O_CREAT); print how many opens failed
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buffer[41];

static int read_once (const char* path)
{
    int fd = open (path, O_RDONLY);
    int n;

    if (fd < 0) {
        return -1;
    }
    n = read (fd, buffer, 40);
    close (fd);
    buffer[n < 0 ? 0 : n] = '\0';
    return n;
}

static void loop_read (unsigned count, const char* path)
{
    static unsigned seen[256];
    unsigned failed = 0, i;

    for (i = 0; i < count; ++i) {
        if (read_once (path) < 0) {
            ++failed;
        } else {
            ++seen[(unsigned char) buffer[0]];
        }
    }
    printf ("R %s: %u failed", path, failed);
    for (i = 0; i < 256; ++i) {
        if (seen[i]) {
            printf (", %u '%c'", seen[i], i);
        }
    }
    printf ("\n");
}

static void loop_create (unsigned count, const char* path)
{
    unsigned failed = 0, i;
    int fd;

    for (i = 0; i < count; ++i) {
        fd = open (path, O_WRONLY | O_CREAT);
        if (fd < 0) {
            ++failed;
        } else {
            close (fd);
        }
    }
    printf ("W %s: %u failed\n", path, failed);
}

int main (int argc, char* argv[])
{
    int i, fd;
    char* path;
    char* text;

    for (i = 1; i < argc; ++i) {
        path = argv[i] + 2;
        switch (argv[i][0]) {
        case 'r':
            if (read_once (path) < 0) {
                printf ("r %s: -1\n", path);
            } else {
                printf ("r %s: %s\n", path, buffer);
            }
            break;
        case 'w':
            text = strchr (path, ':');
            *text++ = '\0';
            fd = open (path, O_WRONLY | O_CREAT | O_TRUNC);
            if (fd >= 0 && write (fd, text, strlen (text)) == (int) strlen (text)) {
                printf ("w %s: ok\n", path);
            } else {
                printf ("w %s: -1\n", path);
            }
            if (fd >= 0) {
                close (fd);
            }
            break;
        case 'x':
            fd = open (path, O_WRONLY | O_CREAT | O_EXCL);
            printf ("x %s: %s\n", path, fd < 0 ? "-1" : "ok");
            if (fd >= 0) {
                close (fd);
            }
            break;
        case 'R':
        case 'W':
            text = strchr (path, ':');
            *text++ = '\0';
            if (argv[i][0] == 'R') {
                loop_read (atoi (path), text);
            } else {
                loop_create (atoi (path), text);
            }
            break;
        }
    }
    return 0;
}
