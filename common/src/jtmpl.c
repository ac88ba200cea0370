/* jtmpl.c - JSON templates with placeholders: a small JSON parser that records literal runs
 * and placeholders, and a renderer. Whitespace outside strings is dropped. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/jtmpl.h"
#include "cs/mem.h"

#define MAX_DEPTH 32

static const struct {
    const char *name;
    enum jt_var var;
    bool number; /* rendered as a JSON number in value position */
} vars[] = {
    {"id", JT_ID, false},
    {"index", JT_INDEX, true},
    {"ts", JT_TS, false},
    {"meter_wh", JT_METER_WH, true},
    {"power_w", JT_POWER_W, true},
    {"soc", JT_SOC, true},
    {"status", JT_STATUS, false},
    {"connector", JT_CONNECTOR, true},
    {"tx_id", JT_TX_ID, true},
    {"seq", JT_SEQ, true},
    {"vendor", JT_VENDOR, false},
    {"model", JT_MODEL, false},
    {"firmware", JT_FIRMWARE, false},
};

struct seg {
    bool ph; /* placeholder, else literal */
    bool in_string;
    char *lit; /* literal text */
    size_t len;
    enum jt_var var;
    bool number;
    char *arg;     /* JT_ARG: argument name */
    char *def;     /* JT_ARG: default text, NULL = required */
    double lo, hi; /* JT_RAND */
    bool rand_int;
};

struct jtmpl {
    char *src;
    struct seg *segs;
    size_t n, cap;
};

struct jp {
    const char *s;
    size_t len, pos;
    struct jtmpl *t; /* NULL: validate only */
    struct buf lit;  /* literal text not yet flushed */
    struct cs_error *err;
};

static int perr(struct jp *p, const char *what)
{
    return cs_error_set(p->err, CS_ERR_PARSE, "template: %s at offset %zu", what, p->pos);
}

static void emit(struct jp *p, const char *s, size_t n)
{
    if (p->t)
        buf_append(&p->lit, s, n);
}

static struct seg *push(struct jtmpl *t)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->segs = cs_realloc(t->segs, t->cap * sizeof(*t->segs));
    }
    struct seg *s = &t->segs[t->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

static void flush(struct jp *p)
{
    if (!p->t || p->lit.len == 0)
        return;
    struct seg *s = push(p->t);
    s->len = p->lit.len;
    s->lit = buf_detach(&p->lit);
}

static void skip_ws(struct jp *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int parse_value(struct jp *p, int depth);

/* {name}, {rand:LO:HI}, {arg.NAME|default}; p->pos is at '{'. */
static int parse_placeholder(struct jp *p, bool in_string)
{
    size_t start = p->pos + 1, end = start;
    while (end < p->len && p->s[end] != '}' && p->s[end] != '"' && end - start < 200)
        end++;
    if (end >= p->len || p->s[end] != '}')
        return perr(p, "unterminated placeholder");
    char body[256];
    size_t n = end - start;
    memcpy(body, p->s + start, n);
    body[n] = '\0';
    struct seg tmp = {.ph = true, .in_string = in_string};

    if (strncmp(body, "arg.", 4) == 0) {
        char *bar = strchr(body, '|');
        size_t nl = bar ? (size_t)(bar - body - 4) : n - 4;
        if (nl == 0)
            return perr(p, "{arg.NAME} needs a name");
        for (size_t i = 4; i < 4 + nl; i++)
            if (!(isalnum((unsigned char)body[i]) || body[i] == '_'))
                return perr(p, "argument names are [A-Za-z0-9_]");
        tmp.var = JT_ARG;
        tmp.arg = cs_strndup(body + 4, nl);
        tmp.def = bar ? cs_strdup(bar + 1) : NULL;
    } else if (strncmp(body, "rand:", 5) == 0) {
        char *colon = strchr(body + 5, ':');
        if (!colon)
            return perr(p, "{rand:LO:HI} needs two bounds");
        *colon = '\0';
        if (!json_is_number(body + 5) || !json_is_number(colon + 1))
            return perr(p, "{rand:LO:HI} bounds must be numbers");
        tmp.var = JT_RAND;
        tmp.lo = strtod(body + 5, NULL);
        tmp.hi = strtod(colon + 1, NULL);
        tmp.rand_int = !strpbrk(body + 5, ".eE") && !strpbrk(colon + 1, ".eE");
        tmp.number = true;
        if (tmp.lo > tmp.hi)
            return perr(p, "{rand:LO:HI} with LO above HI");
        /* beyond, HI - LO overflows (inf renders as invalid JSON) or int64_t casts break */
        if (tmp.lo < -1e15 || tmp.hi > 1e15)
            return perr(p, "{rand:LO:HI} bounds must be within -1e15..1e15");
    } else {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(vars); i++)
            if (strcmp(vars[i].name, body) == 0)
                break;
        if (i == ARRAY_SIZE(vars)) {
            char msg[96];
            snprintf(msg, sizeof(msg), "unknown placeholder {%.*s}", CS_UTF8_CLIP(body, 40));
            return perr(p, msg);
        }
        tmp.var = vars[i].var;
        tmp.number = vars[i].number;
    }
    if (p->t) {
        flush(p);
        *push(p->t) = tmp;
    } else {
        cs_free(tmp.arg);
        cs_free(tmp.def);
    }
    p->pos = end + 1;
    return CS_OK;
}

/* The value of 4 hex digits at s[at..at+4), or -1. */
static long hex4(const struct jp *p, size_t at)
{
    long v = 0;
    for (size_t i = at; i < at + 4; i++) {
        if (i >= p->len || !isxdigit((unsigned char)p->s[i]))
            return -1;
        char c = p->s[i];
        v = v * 16 + (isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
    }
    return v;
}

static int parse_string(struct jp *p, bool is_key)
{
    emit(p, "\"", 1);
    p->pos++;
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '"') {
            emit(p, "\"", 1);
            p->pos++;
            return CS_OK;
        }
        if ((unsigned char)c < 0x20)
            return perr(p, "control character in a string");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return perr(p, "unterminated escape");
            char e = p->s[p->pos + 1];
            size_t n = 2;
            if (e == 'u') {
                long cu = hex4(p, p->pos + 2);
                if (cu < 0)
                    return perr(p, "bad \\u escape");
                n = 6;
                /* A lone surrogate is valid JSON text but no character: parsers refuse it. */
                if (cu >= 0xDC00 && cu <= 0xDFFF)
                    return perr(p, "\\uDC00-\\uDFFF without a high surrogate before it");
                if (cu >= 0xD800 && cu <= 0xDBFF) {
                    long lo =
                        p->pos + 7 < p->len && p->s[p->pos + 6] == '\\' && p->s[p->pos + 7] == 'u'
                            ? hex4(p, p->pos + 8)
                            : -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return perr(p, "\\uD800-\\uDBFF not followed by a \\uDC00-\\uDFFF escape");
                    n = 12;
                }
            } else if (e == '\0' || !strchr("\"\\/bfnrt", e)) {
                return perr(p, "bad escape");
            }
            emit(p, p->s + p->pos, n);
            p->pos += n;
            continue;
        }
        if (c == '}' && p->pos + 1 < p->len && p->s[p->pos + 1] == '}') {
            emit(p, "}", 1); /* "}}": a literal brace, as "{{" */
            p->pos += 2;
            continue;
        }
        if (c == '{') {
            if (p->pos + 1 < p->len && p->s[p->pos + 1] == '{') {
                emit(p, "{", 1);
                p->pos += 2;
                continue;
            }
            if (is_key)
                return perr(p, "placeholders are not allowed in keys");
            int rc = parse_placeholder(p, true);
            if (rc)
                return rc;
            continue;
        }
        emit(p, &c, 1);
        p->pos++;
    }
    return perr(p, "unterminated string");
}

static int parse_number(struct jp *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] && strchr("+-0123456789.eE", p->s[p->pos]))
        p->pos++;
    char num[64];
    size_t n = p->pos - start;
    if (n == 0 || n >= sizeof(num)) {
        p->pos = start;
        return perr(p, "bad number");
    }
    memcpy(num, p->s + start, n);
    num[n] = '\0';
    if (!json_is_number(num)) {
        p->pos = start;
        return perr(p, "bad number");
    }
    emit(p, num, n);
    return CS_OK;
}

static int parse_word(struct jp *p)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        size_t n = strlen(words[i]);
        if (p->len - p->pos >= n && strncmp(p->s + p->pos, words[i], n) == 0) {
            emit(p, words[i], n);
            p->pos += n;
            return CS_OK;
        }
    }
    return perr(p, "unexpected character");
}

/* Copies c to the output and steps over it when it is the next character. */
static bool take(struct jp *p, char c)
{
    if (p->pos >= p->len || p->s[p->pos] != c)
        return false;
    emit(p, &c, 1);
    p->pos++;
    return true;
}

/* An object ('{' ... '}': "key": value members) or an array ('[' ... ']': values), from its
 * opening bracket. */
static int parse_container(struct jp *p, int depth)
{
    bool object = p->s[p->pos] == '{';
    char close = object ? '}' : ']';
    take(p, p->s[p->pos]);
    skip_ws(p);
    if (take(p, close))
        return CS_OK;
    for (;;) {
        int rc;
        if (object) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return perr(p, "expected a \"key\"");
            if ((rc = parse_string(p, true)) != CS_OK)
                return rc;
            skip_ws(p);
            if (!take(p, ':'))
                return perr(p, "expected ':'");
        }
        if ((rc = parse_value(p, depth + 1)) != CS_OK)
            return rc;
        skip_ws(p);
        if (take(p, ','))
            continue;
        if (take(p, close))
            return CS_OK;
        return perr(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(struct jp *p, int depth)
{
    if (depth > MAX_DEPTH)
        return perr(p, "nested too deeply");
    skip_ws(p);
    if (p->pos >= p->len)
        return perr(p, "unexpected end");
    char c = p->s[p->pos];
    if (c == '{') {
        char n = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';
        if (isalpha((unsigned char)n) || n == '_')
            return parse_placeholder(p, false);
        return parse_container(p, depth);
    }
    if (c == '[')
        return parse_container(p, depth);
    if (c == '"')
        return parse_string(p, false);
    if (c == '-' || isdigit((unsigned char)c))
        return parse_number(p);
    return parse_word(p);
}

void jtmpl_free(struct jtmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        cs_free(t->segs[i].lit);
        cs_free(t->segs[i].arg);
        cs_free(t->segs[i].def);
    }
    cs_free(t->segs);
    cs_free(t->src);
    cs_free(t);
}

struct jtmpl *jtmpl_compile(const char *src, size_t len, struct cs_error *err)
{
    if (len > JTMPL_MAX_LEN) {
        cs_error_set(err, CS_ERR_TOO_BIG, "template: longer than %d bytes", JTMPL_MAX_LEN);
        return NULL;
    }
    struct jtmpl *t = cs_calloc(1, sizeof(*t));
    struct jp p = {src, len, 0, t, BUF_INIT, err};
    t->src = cs_strndup(src, len);
    int rc = parse_value(&p, 0);
    if (!rc) {
        skip_ws(&p);
        if (p.pos < len)
            rc = perr(&p, "trailing characters after the value");
    }
    flush(&p);
    buf_free(&p.lit);
    if (rc) {
        jtmpl_free(t);
        return NULL;
    }
    return t;
}

const char *jtmpl_source(const struct jtmpl *t)
{
    return t->src;
}

/* Appends text escaped for the inside of a JSON string. */
static void put_escaped(struct buf *out, const char *s)
{
    struct buf tmp = BUF_INIT;
    buf_json_str(&tmp, s, strlen(s));
    buf_append(out, tmp.s + 1, tmp.len - 2);
    buf_free(&tmp);
}

int jtmpl_render(const struct jtmpl *t, jtmpl_resolve_fn *fn, void *privdata, struct cs_rng *rng,
                 struct buf *out, struct cs_error *err)
{
    size_t mark = out->len;
    for (size_t i = 0; i < t->n; i++) {
        const struct seg *s = &t->segs[i];
        if (!s->ph) {
            buf_append(out, s->lit, s->len);
            continue;
        }
        struct jt_value v = {JTV_STRING, ""};
        if (s->var == JT_RAND) {
            double x = s->lo + (s->hi - s->lo) * cs_rng_double(rng);
            if (s->rand_int) {
                int64_t lo = (int64_t)s->lo, hi = (int64_t)s->hi;
                x = (double)(lo + (int64_t)cs_rng_below(rng, (uint64_t)(hi - lo + 1)));
                snprintf(v.text, sizeof(v.text), "%.0f", x);
            } else {
                snprintf(v.text, sizeof(v.text), "%.3f", x);
            }
            v.kind = JTV_NUMBER;
        } else if (s->var == JT_ARG) {
            if (!fn(privdata, JT_ARG, s->arg, &v)) {
                if (!s->def) {
                    out->len = mark;
                    if (out->s)
                        out->s[mark] = '\0';
                    return cs_error_set(err, CS_ERR_NOTFOUND,
                                        "template needs argument %s=... (no default)", s->arg);
                }
                cs_strlcpy(v.text, s->def, sizeof(v.text));
            }
            v.kind = JTV_GUESS;
        } else {
            fn(privdata, s->var, NULL, &v);
            v.kind = s->number && json_is_number(v.text) ? JTV_NUMBER : JTV_STRING;
        }
        if (s->in_string) {
            put_escaped(out, v.text);
        } else if (v.kind == JTV_NUMBER) {
            buf_puts(out, v.text);
        } else if (v.kind == JTV_GUESS) {
            struct jw j;
            jw_init(&j, out);
            jw_guess(&j, v.text);
        } else {
            buf_json_str(out, v.text, strlen(v.text));
        }
    }
    return CS_OK;
}

int jtmpl_members(const char *src, size_t len, jtmpl_member_fn *fn, void *privdata,
                  struct cs_error *err)
{
    struct jp p = {src, len, 0, NULL, BUF_INIT, err};
    skip_ws(&p);
    if (p.pos >= len || src[p.pos] != '{')
        return perr(&p, "a catalog file is an object {\"Name\": template, ...}");
    p.pos++;
    skip_ws(&p);
    if (p.pos < len && src[p.pos] == '}') {
        p.pos++;
        skip_ws(&p);
        return p.pos == len ? CS_OK : perr(&p, "trailing characters after the object");
    }
    for (;;) {
        skip_ws(&p);
        if (p.pos >= len || src[p.pos] != '"')
            return perr(&p, "expected a \"Name\"");
        size_t ks = p.pos + 1;
        int rc = parse_string(&p, true);
        if (rc)
            return rc;
        char name[80];
        size_t kl = p.pos - 1 - ks;
        if (kl == 0 || kl >= sizeof(name))
            return perr(&p, "message names are 1..79 characters");
        memcpy(name, src + ks, kl);
        name[kl] = '\0';
        skip_ws(&p);
        if (p.pos >= len || src[p.pos] != ':')
            return perr(&p, "expected ':'");
        p.pos++;
        skip_ws(&p);
        size_t vs = p.pos;
        rc = parse_value(&p, 1);
        if (rc)
            return rc;
        rc = fn(privdata, name, src + vs, p.pos - vs);
        if (rc)
            return rc;
        skip_ws(&p);
        if (p.pos < len && src[p.pos] == ',') {
            p.pos++;
            continue;
        }
        if (p.pos < len && src[p.pos] == '}') {
            p.pos++;
            skip_ws(&p);
            return p.pos == len ? CS_OK : perr(&p, "trailing characters after the object");
        }
        return perr(&p, "expected ',' or '}'");
    }
}
