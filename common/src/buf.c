/* buf.c - growable buffer and streaming JSON writer. */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/util.h"
#include "cs/mem.h"

void buf_init(struct buf *b)
{
    b->s = NULL;
    b->len = b->cap = 0;
}

void buf_free(struct buf *b)
{
    cs_free(b->s);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->s = cs_realloc(b->s, cap);
    b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        buf_append(b, tmp, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            buf_append(b, s + i - run, run);
            run = 0;
            buf_puts(b, esc);
        } else {
            run++;
        }
    }
    buf_append(b, s + n - run, run);
    buf_putc(b, '"');
}

char *buf_detach(struct buf *b)
{
    char *s = b->s ? b->s : cs_strdup("");
    buf_init(b);
    return s;
}

const char *buf_cstr(const struct buf *b)
{
    return b->s ? b->s : "";
}

void jw_init(struct jw *w, struct buf *b)
{
    w->b = b;
    w->depth = 0;
    w->first[0] = true;
    w->after_key = false;
}

/* Emit the separator a new value needs at the current position. */
static void sep(struct jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        buf_putc(w->b, ',');
    w->first[w->depth] = false;
}

static void open(struct jw *w, char c)
{
    sep(w);
    buf_putc(w->b, c);
    /* Nesting deeper than JW_MAX_DEPTH is a programming error in a builder. */
    assert(w->depth < JW_MAX_DEPTH - 1);
    w->depth++;
    w->first[w->depth] = true;
    w->close[w->depth] = c == '{' ? '}' : ']';
}

void jw_obj(struct jw *w)
{
    open(w, '{');
}

void jw_arr(struct jw *w)
{
    open(w, '[');
}

void jw_end(struct jw *w)
{
    assert(w->depth > 0);
    buf_putc(w->b, w->close[w->depth]);
    w->depth--;
    w->after_key = false;
}

void jw_key(struct jw *w, const char *key)
{
    sep(w);
    buf_json_str(w->b, key, strlen(key));
    buf_putc(w->b, ':');
    w->after_key = true;
}

void jw_str(struct jw *w, const char *s)
{
    jw_strn(w, s, strlen(s));
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
    sep(w);
    buf_json_str(w->b, s, n);
}

void jw_int(struct jw *w, int64_t v)
{
    sep(w);
    buf_printf(w->b, "%lld", (long long)v);
}

void jw_double(struct jw *w, double v, int decimals)
{
    sep(w);
    if (!isfinite(v)) {
        buf_puts(w->b, "null");
        return;
    }
    buf_printf(w->b, "%.*f", decimals, v);
}

void jw_bool(struct jw *w, bool v)
{
    sep(w);
    buf_puts(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
    sep(w);
    buf_puts(w->b, "null");
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
    sep(w);
    buf_append(w->b, json, n);
}

void jw_kstr(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kint(struct jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kdouble(struct jw *w, const char *key, double v, int decimals)
{
    jw_key(w, key);
    jw_double(w, v, decimals);
}

void jw_kbool(struct jw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

/* True when s is a number in JSON's grammar, so it can be inserted verbatim (strtod also takes
 * ".5", "5.", "+1", "0x10" and "01", which are not JSON). */
bool json_is_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (isdigit((unsigned char)*p))
        while (isdigit((unsigned char)*p))
            p++;
    else
        return false;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* Writes an override whose type is guessed from its text: number, boolean, null, JSON object
 * or array, else string. */
void jw_guess(struct jw *jw, const char *v)
{
    int64_t i;
    double d;
    bool b;
    if (json_is_number(v) && cs_parse_i64(v, INT64_MIN / 2, INT64_MAX / 2, &i)) {
        jw_int(jw, i); /* not "+5" or "007": strtoll takes them, JSON does not */
    } else if (json_is_number(v) && cs_parse_double(v, -1e300, 1e300, &d)) {
        jw_raw(jw, v, strlen(v));
    } else if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        cs_parse_bool(v, &b);
        jw_bool(jw, b);
    } else if (strcmp(v, "null") == 0) {
        jw_null(jw);
    } else if (v[0] == '{' || v[0] == '[') {
        cJSON *j = cJSON_ParseWithOpts(v, NULL, true); /* nothing may follow the value */
        char *s = j ? cJSON_PrintUnformatted(j) : NULL;
        if (s)
            jw_raw(jw, s, strlen(s));
        else
            jw_str(jw, v);
        cJSON_free(s);
        cJSON_Delete(j);
    } else {
        jw_str(jw, v);
    }
}

