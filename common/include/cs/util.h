/* util.h - clocks, a seeded PRNG, strict number parsing, ISO-8601 timestamps. */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A macro's value as a string literal. */
#define CS_STR_(x) #x
#define CS_STR(x) CS_STR_(x)

/* Wall clock, milliseconds since the epoch (timestamps in messages and replies). */
int64_t cs_now_ms(void);
/* Monotonic clock in milliseconds (deadlines, intervals). */
int64_t cs_mono_ms(void);
/* Monotonic clock in microseconds (latency measurements). */
int64_t cs_mono_us(void);

/* "2026-11-28T09:10:00.123Z"; out needs 25 bytes. Returns out. */
char *cs_fmt_iso8601(char *out, size_t outlen, int64_t epoch_ms);

/* xoshiro128**-style generator: small state, good enough for jitter and sampling. */
struct cs_rng {
    uint64_t s[2];
};
void cs_rng_seed(struct cs_rng *r, uint64_t seed);
uint64_t cs_rng_next(struct cs_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t cs_rng_below(struct cs_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double cs_rng_double(struct cs_rng *r);
/* A seed from the clock, pid and address-space entropy. */
uint64_t cs_seed_entropy(void);
/* Random UUID v4 text (36 chars + NUL) into out[37]. */
void cs_uuid4(struct cs_rng *r, char out[37]);

/* Strict parsers: the whole string must be a decimal number in [min, max] (no blanks, no hex,
 * no inf/nan; cs_parse_double takes a fraction and an exponent: 7.4, 1e3). */
bool cs_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
bool cs_parse_double(const char *s, double min, double max, double *out);
/* 1/0, true/false, yes/no, on/off (case-insensitive). */
bool cs_parse_bool(const char *s, bool *out);
/* "250ms", "30s", "5m", "2h", or a bare number of seconds (decimal); result in ms. */
bool cs_parse_duration_ms(const char *s, int64_t *out);

/* Copy with truncation (never in the middle of a UTF-8 character); always NUL-terminates when
 * n > 0. Returns true if it fit. */
bool cs_strlcpy(char *dst, const char *src, size_t n);

/* "s" unless n is 1: printf("%lld worker%s", n, cs_plural(n)). */
const char *cs_plural(long long n);

/* Hash of a string (FNV-1a 64). */
uint64_t cs_hash64(const char *s, size_t n);

#endif
