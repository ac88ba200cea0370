/* mem.c - allocation wrappers that abort on OOM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/mem.h"

static void oom(size_t n)
{
    fprintf(stderr, "chargeswarm: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cs_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *cs_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *cs_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *cs_strndup(const char *s, size_t n)
{
    char *p = cs_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cs_strdup(const char *s)
{
    return cs_strndup(s, strlen(s));
}

void cs_free(void *p)
{
    free(p);
}
