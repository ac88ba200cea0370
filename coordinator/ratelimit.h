/* ratelimit.h - token buckets by name: for each HTTP client (its address), how many commands
 * it may send and how many wrong credentials it may present before it has to wait; and how
 * many events the leader records a second. The table is bounded (the name seen longest ago
 * makes room). Pure. */
#ifndef CS_COORD_RATELIMIT_H
#define CS_COORD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RL_CLIENTS_MAX 1024
#define RL_CLIENT_MAX 63 /* longest client key */

enum rl_kind {
    RL_COMMAND,   /* POST /api/command */
    RL_AUTH_FAIL, /* wrong or malformed credentials */
    RL_EVENTLOG,  /* events recorded in {ns}:eventlog */
    RL__COUNT
};

/* A bucket: `burst` at once, refilled at `per_s`. */
struct rl_def {
    const char *name;
    double burst, per_s;
};
const struct rl_def *rl_def(enum rl_kind k);

struct ratelimit;

/* Caller frees with rl_free. */
struct ratelimit *rl_new(void);
void rl_free(struct ratelimit *r);
/* Takes one token from the client's bucket of kind k: true when there was one; otherwise
 * false and *retry_s (when not NULL) = seconds until the next one. */
bool rl_take(struct ratelimit *r, const char *client, enum rl_kind k, int64_t now_ms, int *retry_s);
/* The same check without taking a token. */
bool rl_allows(struct ratelimit *r, const char *client, enum rl_kind k, int64_t now_ms,
               int *retry_s);

#endif
