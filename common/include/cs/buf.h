/* buf.h - a growable byte buffer, always NUL-terminated, plus a small streaming JSON writer. */
#ifndef CS_BUF_H
#define CS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    char *s; /* owned; NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included: control characters escaped, and bytes
 * that are not UTF-8 (raw binary, a character cut in two) replaced by U+FFFD, so the output is
 * always valid UTF-8 JSON whatever the input. */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* Append s for a terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8
 * written as \xNN, so text from Redis or the network cannot move the cursor, recolour or
 * retitle the operator's terminal. */
void buf_term_str(struct buf *b, const char *s, size_t n);
/* Length of the valid UTF-8 character at s (n bytes available), 0 when there is none. */
size_t cs_utf8_len(const char *s, size_t n);
/* How many bytes of s (at most max) to keep so a cut never splits a character: for
 * printf("%.*s", (int)cs_utf8_clip(s, 40), s). An invalid byte counts as one character. */
size_t cs_utf8_clip(const char *s, size_t max);
/* Length of s[0..n) without a character the end cuts short (after a truncating snprintf). */
size_t cs_utf8_trim(const char *s, size_t n);
/* The two arguments of "%.*s" for s cut to at most n bytes on a character boundary. */
#define CS_UTF8_CLIP(s, n) (int)cs_utf8_clip((s), (n)), (s)
/* Returns the contents (caller frees with cs_free) and leaves b empty. */
char *buf_detach(struct buf *b);
/* Contents as a C string ("" when empty; borrowed). */
const char *buf_cstr(const struct buf *b);

/* Streaming JSON writer over a buf: commas are placed automatically.
 *   jw_obj(w); jw_key(w, "a"); jw_int(w, 1); jw_end(w);   ->  {"a":1}  */
#define JW_MAX_DEPTH 16
struct jw {
    struct buf *b;
    int depth;
    bool first[JW_MAX_DEPTH];
    char close[JW_MAX_DEPTH];
    bool after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);
void jw_arr(struct jw *w);
void jw_end(struct jw *w); /* closes the innermost object or array */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v, int decimals);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Insert already-serialised JSON as one value (trusted text only: it is not checked). */
void jw_raw(struct jw *w, const char *json, size_t n);
/* Writes a parsed cJSON value through the writer: strings escaped and UTF-8 checked like
 * jw_str, numbers as JSON numbers (non-finite as null), nesting beyond the writer's depth as
 * text. Use it instead of cJSON_Print* for anything that came from outside. */
struct cJSON;
void jw_cjson(struct jw *w, const struct cJSON *v);

/* Writes text as the JSON value it looks like: integer or number (JSON grammar only), true,
 * false, null, an object or array that parses, else a string. */
void jw_guess(struct jw *w, const char *text);
/* True when s follows JSON's number grammar (strtod also takes ".5", "0x10"...). */
bool json_is_number(const char *s);

/* Shorthands for "key": value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, int64_t v);
void jw_kdouble(struct jw *w, const char *key, double v, int decimals);
void jw_kbool(struct jw *w, const char *key, bool v);

#endif
