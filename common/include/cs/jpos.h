/* jpos.h - a JSON parser that remembers where each value is (line and column, 1-based), for
 * files people write: scenario files get "line 12, column 5: ..." for grammar errors and for
 * semantic ones found later (a bad config value, an unknown key). cJSON keeps no positions.
 * Pure; fuzzed. Bounded: input, depth, nodes and object members are capped. Duplicate keys in
 * an object are an error (JSON leaves them undefined; a second "seed" is a mistake). */
#ifndef CS_JPOS_H
#define CS_JPOS_H

#include <stdbool.h>
#include <stddef.h>

#include "cs/err.h"

#define JPOS_MAX_INPUT (1024 * 1024)
#define JPOS_MAX_DEPTH 64
#define JPOS_MAX_NODES 100000
#define JPOS_MAX_MEMBERS 4096

enum jpos_type { JP_NULL, JP_BOOL, JP_NUMBER, JP_STRING, JP_ARRAY, JP_OBJECT };

struct jnode {
    enum jpos_type type;
    int line, col;         /* where the value starts */
    char *key;             /* a member of an object: its key (owned), else NULL */
    int key_line, key_col; /* ... and where the key starts */
    char *str;             /* JP_STRING: the value, unescaped (owned; never holds a NUL) */
    double num;            /* JP_NUMBER */
    bool b;                /* JP_BOOL */
    struct jnode *child;   /* JP_ARRAY, JP_OBJECT: the first element or member */
    struct jnode *next;    /* the next sibling */
    size_t n;              /* children */
};

/* Parses text; NULL with *err "line L, column C: what" on failure. Caller frees with
 * jpos_free. */
struct jnode *jpos_parse(const char *text, size_t len, struct cs_error *err);
void jpos_free(struct jnode *n);
/* A member of an object, NULL when absent (or n is not an object). */
const struct jnode *jpos_get(const struct jnode *obj, const char *key);
/* "an object", "a string", ... for messages. */
const char *jpos_type_name(enum jpos_type t);

#endif
