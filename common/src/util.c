/* util.c - clocks, PRNG, strict number parsing, timestamps. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cs/buf.h"
#include "cs/util.h"

int64_t cs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cs_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cs_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *cs_fmt_iso8601(char *out, size_t outlen, int64_t epoch_ms)
{
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(epoch_ms % 1000));
    return out;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void cs_rng_seed(struct cs_rng *r, uint64_t seed)
{
    r->s[0] = splitmix64(&seed);
    r->s[1] = splitmix64(&seed);
    if (!r->s[0] && !r->s[1])
        r->s[1] = 1;
}

/* xorshift128+ */
uint64_t cs_rng_next(struct cs_rng *r)
{
    uint64_t s1 = r->s[0];
    const uint64_t s0 = r->s[1];
    const uint64_t result = s0 + s1;
    r->s[0] = s0;
    s1 ^= s1 << 23;
    r->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
    return result;
}

uint64_t cs_rng_below(struct cs_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection sampling removes the modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = cs_rng_next(r);
    while (v >= limit);
    return v % n;
}

double cs_rng_double(struct cs_rng *r)
{
    return (double)(cs_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t cs_seed_entropy(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
    x ^= (uint64_t)getpid() << 16;
    x ^= (uint64_t)(uintptr_t)&x;
    x ^= (uint64_t)cs_now_ms() * 0x9e3779b97f4a7c15ULL;
    return splitmix64(&x);
}

void cs_uuid4(struct cs_rng *r, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = cs_rng_next(r), b = cs_rng_next(r);
    unsigned char bytes[16];
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[bytes[i] >> 4];
        out[o++] = hex[bytes[i] & 15];
    }
    out[o] = '\0';
}

bool cs_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Length of the decimal number at the start of s: [+-]digits[.digits][e[+-]digits] (".5" and
 * "5." too); 0 when there is none. strtod alone would also take "0x10", "inf", "nan" and
 * "1p3"-style hex floats. */
static size_t decimal_prefix(const char *s)
{
    const char *p = s;
    size_t digits = 0;
    if (*p == '+' || *p == '-')
        p++;
    for (; isdigit((unsigned char)*p); p++)
        digits++;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            digits++;
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        const char *e = p + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (isdigit((unsigned char)*e)) {
            while (isdigit((unsigned char)*e))
                e++;
            p = e;
        }
    }
    return (size_t)(p - s);
}

/* strtod over exactly the decimal prefix of s: *end points after it. */
static bool parse_decimal(const char *s, double *v, const char **end)
{
    size_t n = decimal_prefix(s);
    char tmp[64];
    if (!n || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    char *e;
    *v = strtod(tmp, &e);
    if (errno || *e || !isfinite(*v))
        return false;
    *end = s + n;
    return true;
}

bool cs_parse_double(const char *s, double min, double max, double *out)
{
    const char *end;
    double v;
    if (!s || !parse_decimal(s, &v, &end) || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cs_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

bool cs_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct {
        const char *suffix;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    const char *end;
    double v;
    if (!s || !parse_decimal(s, &v, &end) || v < 0)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            double ms = v * units[i].ms;
            if (ms > 1e15)
                return false;
            *out = (int64_t)llround(ms);
            return true;
        }
    }
    return false;
}

bool cs_strlcpy(char *dst, const char *src, size_t n)
{
    if (n == 0)
        return false;
    size_t len = strlen(src);
    if (len >= n) {
        size_t keep = cs_utf8_trim(src, n - 1); /* never half a character */
        memcpy(dst, src, keep);
        dst[keep] = '\0';
        return false;
    }
    memcpy(dst, src, len + 1);
    return true;
}

const char *cs_plural(long long n)
{
    return n == 1 ? "" : "s";
}

uint64_t cs_hash64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
