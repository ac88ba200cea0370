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

/* Length of the UTF-8 sequence a lead byte starts (0: not a lead byte) and the bounds of its
 * second byte, which rule out overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
static size_t utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef) {
        if (c == 0xe0)
            *lo = 0xa0;
        else if (c == 0xed)
            *hi = 0x9f;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (c == 0xf0)
            *lo = 0x90;
        else if (c == 0xf4)
            *hi = 0x8f;
        return 4;
    }
    return 0;
}

/* How far a sequence at s (n bytes available) goes right: its whole length when valid, else
 * *valid is false and the result covers the lead byte and the continuation bytes that were
 * still possible (a character cut in two counts as one bad unit). At least 1 when n > 0. */
static size_t utf8_span(const unsigned char *s, size_t n, bool *valid)
{
    unsigned char lo, hi;
    size_t need = utf8_lead(s[0], &lo, &hi), k = 1;
    *valid = false;
    if (need == 0)
        return 1;
    if (need > 1) {
        if (k < n && s[1] >= lo && s[1] <= hi)
            k++;
        else
            return 1;
        while (k < need && k < n && (s[k] & 0xc0) == 0x80)
            k++;
    }
    *valid = k == need;
    return k;
}

size_t cs_utf8_len(const char *s, size_t n)
{
    bool valid;
    size_t k = n ? utf8_span((const unsigned char *)s, n, &valid) : 0;
    return k && valid ? k : 0;
}

size_t cs_utf8_trim(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char lo, hi;
        size_t j = n - back, need = utf8_lead(u[j], &lo, &hi);
        if ((u[j] & 0xc0) == 0x80)
            continue; /* a continuation byte: its lead is further back */
        bool valid;
        /* A lead byte whose character the end cut short: drop what is left of it. */
        if (need > back && utf8_span(u + j, back, &valid) == back)
            return j;
        return n;
    }
    return n;
}

size_t cs_utf8_clip(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 4), i = 0;
    while (i < max && i < n) {
        bool valid;
        size_t l = utf8_span((const unsigned char *)s + i, n - i, &valid);
        if (i + l > max)
            break;
        i += l;
    }
    return i;
}

void buf_json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        const char *esc = NULL;
        char x[7];
        size_t skip = 1;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(x, "\\u00", 4);
                x[4] = hex[c >> 4];
                x[5] = hex[c & 15];
                x[6] = '\0';
                esc = x;
            } else if (c >= 0x80) {
                bool valid;
                size_t l = utf8_span(u + i, n - i, &valid);
                if (valid) {
                    run += l;
                    i += l;
                    continue;
                }
                /* Not UTF-8 (raw bytes, a character cut in two): U+FFFD instead. */
                esc = "\xef\xbf\xbd";
                skip = l;
            }
        }
        if (esc) {
            buf_append(b, s + i - run, run);
            run = 0;
            buf_puts(b, esc);
            i += skip;
        } else {
            run++;
            i++;
        }
    }
    buf_append(b, s + n - run, run);
    buf_putc(b, '"');
}

void buf_term_str(struct buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        bool valid;
        size_t l = utf8_span(u + i, n - i, &valid);
        /* C0 controls, DEL, and C1 controls (U+0080..U+009F, \xc2\x80..) move the cursor,
         * change colours or retitle the window: shown as escapes, like bytes that are not
         * UTF-8. */
        bool c1 = valid && l == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0;
        if (valid && !c1 && u[i] >= 0x20 && u[i] != 0x7f) {
            buf_append(b, s + i, l);
        } else {
            for (size_t k = 0; k < l; k++)
                buf_printf(b, "\\x%02x", u[i + k]);
        }
        i += l;
    }
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

void jw_cjson(struct jw *w, const cJSON *v)
{
    const cJSON *it;
    if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && w->depth >= JW_MAX_DEPTH - 2) {
        /* Deeper than the writer nests: the rest as text (still escaped and checked). */
        char *text = cJSON_PrintUnformatted(v);
        jw_str(w, text ? text : "");
        cJSON_free(text);
    } else if (cJSON_IsObject(v)) {
        jw_obj(w);
        cJSON_ArrayForEach(it, v)
        {
            jw_key(w, it->string ? it->string : "");
            jw_cjson(w, it);
        }
        jw_end(w);
    } else if (cJSON_IsArray(v)) {
        jw_arr(w);
        cJSON_ArrayForEach(it, v) jw_cjson(w, it);
        jw_end(w);
    } else if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
        jw_str(w, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
            jw_int(w, (int64_t)d);
        else if (isfinite(d)) {
            sep(w);
            buf_printf(w->b, "%.17g", d);
        } else {
            jw_null(w);
        }
    } else if (cJSON_IsBool(v)) {
        jw_bool(w, cJSON_IsTrue(v));
    } else {
        jw_null(w);
    }
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
        if (j)
            jw_cjson(jw, j);
        else
            jw_str(jw, v);
        cJSON_Delete(j);
    } else {
        jw_str(jw, v);
    }
}
