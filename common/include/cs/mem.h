/* mem.h - allocation wrappers that abort on OOM (like redis zmalloc), so call sites stay short. */
#ifndef CS_MEM_H
#define CS_MEM_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *cs_malloc(size_t n);
void *cs_calloc(size_t n, size_t size);
void *cs_realloc(void *p, size_t n);
/* Caller frees the copy with cs_free. */
char *cs_strdup(const char *s);
char *cs_strndup(const char *s, size_t n);
void cs_free(void *p);

#endif
