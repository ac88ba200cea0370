/* jpos.c - JSON with positions: a recursive-descent parser over RFC 8259's grammar. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/jpos.h"
#include "cs/mem.h"

struct jp {
    const char *s;
    size_t n, i;
    int line, col;
    int depth;
    size_t nodes;
    struct cs_error *err;
    bool failed;
};

static const char *const type_names[] = {
    [JP_NULL] = "null",       [JP_BOOL] = "a boolean", [JP_NUMBER] = "a number",
    [JP_STRING] = "a string", [JP_ARRAY] = "an array", [JP_OBJECT] = "an object"};

const char *jpos_type_name(enum jpos_type t)
{
    return type_names[t];
}

static void fail(struct jp *p, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    cs_error_set(p->err, CS_ERR_PARSE, "line %d, column %d: %s", p->line, p->col, what);
}

static int peek(const struct jp *p)
{
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

/* One byte on; columns count characters (UTF-8 continuation bytes do not move them). */
static void step(struct jp *p)
{
    unsigned char c = (unsigned char)p->s[p->i++];
    if (c == '\n') {
        p->line++;
        p->col = 1;
    } else if ((c & 0xc0) != 0x80) {
        p->col++;
    }
}

static void ws(struct jp *p)
{
    int c;
    while ((c = peek(p)) == ' ' || c == '\t' || c == '\r' || c == '\n')
        step(p);
}

static struct jnode *node(struct jp *p, enum jpos_type t)
{
    if (++p->nodes > JPOS_MAX_NODES) {
        fail(p, "too many values (at most 100000)");
        return NULL;
    }
    struct jnode *n = cs_calloc(1, sizeof(*n));
    n->type = t;
    n->line = p->line;
    n->col = p->col;
    return n;
}

void jpos_free(struct jnode *n)
{
    while (n) {
        struct jnode *next = n->next;
        jpos_free(n->child);
        cs_free(n->key);
        cs_free(n->str);
        cs_free(n);
        n = next;
    }
}

static int hex4(struct jp *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int c = peek(p);
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            fail(p, "\\u needs four hex digits");
            return -1;
        }
        v = v * 16 + d;
        step(p);
    }
    return v;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        t[0] = (char)(0xf0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, t, n);
}

/* A string at p (the opening quote); the unescaped text, caller frees. */
static char *string(struct jp *p)
{
    struct buf b = BUF_INIT;
    step(p); /* " */
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            fail(p, "unterminated string");
            goto bad;
        }
        if (c == '"') {
            step(p);
            break;
        }
        if (c < 0x20) {
            fail(p, "a control character in a string (write \\n, \\t ...)");
            goto bad;
        }
        if (c != '\\') {
            buf_putc(&b, (char)c);
            step(p);
            continue;
        }
        step(p);
        c = peek(p);
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *at = c > 0 ? strchr(from, c) : NULL;
        if (at) {
            buf_putc(&b, to[at - from]);
            step(p);
            continue;
        }
        if (c != 'u') {
            fail(p, "unknown escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            goto bad;
        }
        step(p);
        int u = hex4(p);
        if (u < 0)
            goto bad;
        uint32_t cp = (uint32_t)u;
        if (u >= 0xd800 && u <= 0xdbff) { /* a surrogate pair */
            if (peek(p) != '\\') {
                fail(p, "a lone surrogate in \\u escapes");
                goto bad;
            }
            step(p);
            if (peek(p) != 'u') {
                fail(p, "a lone surrogate in \\u escapes");
                goto bad;
            }
            step(p);
            int lo = hex4(p);
            if (lo < 0)
                goto bad;
            if (lo < 0xdc00 || lo > 0xdfff) {
                fail(p, "a lone surrogate in \\u escapes");
                goto bad;
            }
            cp = 0x10000 + (((uint32_t)u - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            fail(p, "a lone surrogate in \\u escapes");
            goto bad;
        }
        if (cp == 0) {
            fail(p, "\\u0000 is not allowed");
            goto bad;
        }
        put_utf8(&b, cp);
    }
    if (!b.s)
        buf_puts(&b, "");
    return buf_detach(&b);
bad:
    buf_free(&b);
    return NULL;
}

static bool digits(struct jp *p)
{
    int c = peek(p);
    if (c < '0' || c > '9')
        return false;
    while ((c = peek(p)) >= '0' && c <= '9')
        step(p);
    return true;
}

static struct jnode *number(struct jp *p)
{
    struct jnode *n = node(p, JP_NUMBER);
    if (!n)
        return NULL;
    size_t start = p->i;
    if (peek(p) == '-')
        step(p);
    if (peek(p) == '0') {
        step(p);
    } else if (!digits(p)) {
        fail(p, "expected a digit");
        goto bad;
    }
    if (peek(p) == '.') {
        step(p);
        if (!digits(p)) {
            fail(p, "expected a digit after '.'");
            goto bad;
        }
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        step(p);
        if (peek(p) == '+' || peek(p) == '-')
            step(p);
        if (!digits(p)) {
            fail(p, "expected a digit in the exponent");
            goto bad;
        }
    }
    char t[64];
    size_t len = p->i - start;
    if (len >= sizeof(t)) {
        fail(p, "number too long");
        goto bad;
    }
    memcpy(t, p->s + start, len);
    t[len] = '\0';
    n->num = strtod(t, NULL);
    return n;
bad:
    jpos_free(n);
    return NULL;
}

static bool literal(struct jp *p, const char *word)
{
    size_t n = strlen(word);
    if (p->n - p->i < n || memcmp(p->s + p->i, word, n) != 0)
        return false;
    for (size_t k = 0; k < n; k++)
        step(p);
    return true;
}

static struct jnode *value(struct jp *p);

static struct jnode *container(struct jp *p, bool object)
{
    struct jnode *n = node(p, object ? JP_OBJECT : JP_ARRAY), **tail;
    if (!n)
        return NULL;
    if (++p->depth > JPOS_MAX_DEPTH) {
        fail(p, "nested more than 64 levels deep");
        jpos_free(n);
        return NULL;
    }
    tail = &n->child;
    step(p); /* { or [ */
    ws(p);
    char close = object ? '}' : ']';
    if (peek(p) == close) {
        step(p);
        p->depth--;
        return n;
    }
    for (;;) {
        char *key = NULL;
        int kl = 0, kc = 0;
        if (object) {
            if (peek(p) != '"') {
                fail(p, "expected a key in double quotes");
                goto bad;
            }
            kl = p->line;
            kc = p->col;
            if (!(key = string(p)))
                goto bad;
            for (const struct jnode *m = n->child; m; m = m->next) {
                if (strcmp(m->key, key) == 0) {
                    p->line = kl, p->col = kc; /* point at the second one */
                    char msg[160];
                    snprintf(msg, sizeof(msg), "duplicate key \"%.100s\" (first at line %d)", key,
                             m->key_line);
                    fail(p, msg);
                    cs_free(key);
                    goto bad;
                }
            }
            if (n->n >= JPOS_MAX_MEMBERS) {
                fail(p, "an object with more than 4096 members");
                cs_free(key);
                goto bad;
            }
            ws(p);
            if (peek(p) != ':') {
                fail(p, "expected ':' after the key");
                cs_free(key);
                goto bad;
            }
            step(p);
        }
        ws(p);
        struct jnode *v = value(p);
        if (!v) {
            cs_free(key);
            goto bad;
        }
        v->key = key;
        v->key_line = kl;
        v->key_col = kc;
        *tail = v;
        tail = &v->next;
        n->n++;
        ws(p);
        if (peek(p) == ',') {
            step(p);
            ws(p);
            continue;
        }
        if (peek(p) == close) {
            step(p);
            break;
        }
        fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto bad;
    }
    p->depth--;
    return n;
bad:
    jpos_free(n);
    return NULL;
}

static struct jnode *value(struct jp *p)
{
    int c = peek(p);
    struct jnode *n;
    switch (c) {
    case '{':
        return container(p, true);
    case '[':
        return container(p, false);
    case '"':
        if (!(n = node(p, JP_STRING)))
            return NULL;
        if (!(n->str = string(p))) {
            jpos_free(n);
            return NULL;
        }
        return n;
    case 't':
    case 'f':
    case 'n': {
        int line = p->line, col = p->col;
        bool t = literal(p, "true"), f = !t && literal(p, "false"),
             z = !t && !f && literal(p, "null");
        if (!t && !f && !z)
            break;
        if (!(n = node(p, z ? JP_NULL : JP_BOOL)))
            return NULL;
        n->line = line;
        n->col = col;
        n->b = t;
        return n;
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return number(p);
    }
    fail(p, c < 0 ? "unexpected end of the text" : "expected a value");
    return NULL;
}

struct jnode *jpos_parse(const char *text, size_t len, struct cs_error *err)
{
    struct jp p = {text, len, 0, 1, 1, 0, 0, err, false};
    if (len > JPOS_MAX_INPUT) {
        cs_error_set(err, CS_ERR_TOO_BIG, "larger than %d bytes", JPOS_MAX_INPUT);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        cs_error_set(err, CS_ERR_PARSE, "a NUL byte in the text");
        return NULL;
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
        p.i = 3;
    ws(&p);
    struct jnode *root = value(&p);
    if (!root)
        return NULL;
    ws(&p);
    if (p.i < p.n) {
        fail(&p, "text after the end of the document");
        jpos_free(root);
        return NULL;
    }
    return root;
}

const struct jnode *jpos_get(const struct jnode *obj, const char *key)
{
    if (!obj || obj->type != JP_OBJECT)
        return NULL;
    for (const struct jnode *m = obj->child; m; m = m->next)
        if (strcmp(m->key, key) == 0)
            return m;
    return NULL;
}
