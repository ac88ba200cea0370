/* ratelimit.c - token buckets in a fixed table, scanned whole (a thousand entries). */
#include <math.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/util.h"
#include "ratelimit.h"

static const struct rl_def defs[] = {
    [RL_COMMAND] = {"commands", 10, 1},            /* 10 at once, then one a second */
    [RL_AUTH_FAIL] = {"failed sign-ins", 10, 0.1}, /* 10, then one every 10 s */
    [RL_EVENTLOG] = {"recorded events", 500, 100},
};
_Static_assert(ARRAY_SIZE(defs) == RL__COUNT, "one bucket definition per kind");

struct client {
    char key[RL_CLIENT_MAX + 1];
    int64_t seen_ms;
    double tokens[RL__COUNT];
    int64_t at_ms[RL__COUNT]; /* when tokens[] was last brought up to date */
};

struct ratelimit {
    struct client c[RL_CLIENTS_MAX];
    size_t n;
};

const struct rl_def *rl_def(enum rl_kind k)
{
    return &defs[k];
}

struct ratelimit *rl_new(void)
{
    return cs_calloc(1, sizeof(struct ratelimit));
}

void rl_free(struct ratelimit *r)
{
    cs_free(r);
}

static struct client *client(struct ratelimit *r, const char *key, int64_t now)
{
    size_t oldest = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->c[i].key, key) == 0)
            return &r->c[i];
        if (r->c[i].seen_ms < r->c[oldest].seen_ms)
            oldest = i;
    }
    struct client *c = r->n < RL_CLIENTS_MAX ? &r->c[r->n++] : &r->c[oldest];
    memset(c, 0, sizeof(*c));
    cs_strlcpy(c->key, key, sizeof(c->key));
    for (int k = 0; k < RL__COUNT; k++) {
        c->tokens[k] = defs[k].burst;
        c->at_ms[k] = now;
    }
    return c;
}

static bool check(struct ratelimit *r, const char *key, enum rl_kind k, int64_t now, int *retry_s,
                  bool take)
{
    struct client *c = client(r, key, now);
    const struct rl_def *d = &defs[k];
    double dt = (double)(now - c->at_ms[k]) / 1000.0;
    if (dt > 0)
        c->tokens[k] = fmin(d->burst, c->tokens[k] + dt * d->per_s);
    c->at_ms[k] = now;
    c->seen_ms = now;
    if (c->tokens[k] >= 1.0 - 1e-9) { /* refills add up in floating point */
        if (take)
            c->tokens[k] -= 1.0;
        return true;
    }
    if (retry_s)
        *retry_s = (int)ceil((1.0 - c->tokens[k]) / d->per_s);
    return false;
}

bool rl_take(struct ratelimit *r, const char *client, enum rl_kind k, int64_t now_ms, int *retry_s)
{
    return check(r, client, k, now_ms, retry_s, true);
}

bool rl_allows(struct ratelimit *r, const char *client, enum rl_kind k, int64_t now_ms,
               int *retry_s)
{
    return check(r, client, k, now_ms, retry_s, false);
}
