/* rds.h - Redis on the event loop: a hiredis async connection that reconnects by itself
 * (exponential backoff, full jitter), authenticates, selects the database and, for pub/sub
 * connections, re-subscribes after every reconnect. The only user of hiredis in the tree. */
#ifndef CS_RDS_H
#define CS_RDS_H

#include <stdbool.h>
#include <stddef.h>

#include "cs/kv.h"
#include "cs/url.h"

struct event_base;
struct rds;
struct rds_reply; /* a view of a reply: valid only during the callback */

enum rds_type { RDS_NIL, RDS_STRING, RDS_INT, RDS_ARRAY, RDS_STATUS, RDS_ERROR };

/* [loop] Runs exactly once per accepted command: with the reply, or with NULL when the
 * connection drops first or the rds is freed. */
typedef void rds_reply_fn(struct rds *r, const struct rds_reply *reply, void *privdata);
/* [loop] The connection became usable (up) or was lost. */
typedef void rds_state_fn(struct rds *r, bool up, void *privdata);
/* [loop] A pub/sub message; pattern is NULL for plain SUBSCRIBE. Borrowed for the call. */
typedef void rds_msg_fn(struct rds *r, const char *pattern, const char *channel,
                        const char *payload, size_t len, void *privdata);

struct rds_opts {
    struct redis_url url;
    const char *name;       /* CLIENT SETNAME and log prefix */
    rds_state_fn *on_state; /* may be NULL */
    rds_msg_fn *on_message; /* non-NULL makes this a pub/sub connection */
    void *privdata;
    int reconnect_min_ms; /* 0 = 100 */
    int reconnect_max_ms; /* 0 = 5000 */
    int timeout_ms;       /* a command unanswered this long resets the connection; 0 = 10000 */
};

/* Starts connecting at once. Caller frees with rds_free. */
struct rds *rds_new(struct event_base *base, const struct rds_opts *o);
void rds_free(struct rds *r);
bool rds_is_up(const struct rds *r);
/* Down, and the last failure came from the server's host: it closed the connection or refuses
 * connects (Redis stopped or restarting), as opposed to silence (a partition, a hung server). */
bool rds_server_down(const struct rds *r);
/* Drops the connection and reconnects (after backoff). */
void rds_reconnect(struct rds *r);

/* Queue a command. Returns CS_ERR_IO (callback not called) when the connection is down (or r is
 * NULL: already freed). */
int rds_cmd(struct rds *r, rds_reply_fn *fn, void *privdata, const char *fmt, ...);
int rds_cmdv(struct rds *r, rds_reply_fn *fn, void *privdata, int argc, const char **argv,
             const size_t *argvlen);
/* Pub/sub connections: remembered and re-issued after every reconnect. */
void rds_subscribe(struct rds *r, const char *channel);
void rds_psubscribe(struct rds *r, const char *pattern);
/* The privdata given in rds_opts (for callbacks that only get the rds). */
void *rds_privdata(const struct rds *r);

enum rds_type rds_reply_type(const struct rds_reply *rp);
long long rds_reply_int(const struct rds_reply *rp);
/* String, status or error text (borrowed); NULL for other types. */
const char *rds_reply_str(const struct rds_reply *rp, size_t *len);
size_t rds_reply_len(const struct rds_reply *rp);
const struct rds_reply *rds_reply_at(const struct rds_reply *rp, size_t i);
/* Non-NULL and not an error reply. */
bool rds_reply_ok(const struct rds_reply *rp);
/* Flat [k, v, k, v...] array (HGETALL, CONFIG GET) into kv pairs. */
void rds_reply_kv(const struct rds_reply *rp, struct kvlist *out);
/* Integer reply, or a string holding an integer; def otherwise. */
long long rds_reply_num(const struct rds_reply *rp, long long def);
/* The first reply in `len` bytes of RESP (the Redis protocol) text, for tests and fuzzing:
 * "*2\r\n$1\r\na\r\n:5\r\n". NULL when the text holds no complete reply. Caller frees it
 * with rds_reply_free. */
struct rds_reply *rds_reply_parse(const char *resp, size_t len);

/* ---- blocking client, for short-lived tools (swarm-cli) ---------------------------------- */

struct rds_sync;
/* Connects, authenticates and selects the database. NULL with *err on failure. */
struct rds_sync *rds_sync_connect(const struct redis_url *url, int timeout_ms,
                                  struct cs_error *err);
void rds_sync_free(struct rds_sync *s);
/* Sends a command and waits for its reply; NULL on a connection error (see rds_sync_error).
 * Caller frees the reply with rds_reply_free. */
struct rds_reply *rds_sync_cmd(struct rds_sync *s, const char *fmt, ...);
struct rds_reply *rds_sync_cmdv(struct rds_sync *s, int argc, const char **argv,
                                const size_t *argvlen);
/* Pipelining: queue with rds_sync_append*, then collect each reply with rds_sync_read. */
int rds_sync_append(struct rds_sync *s, const char *fmt, ...);
int rds_sync_appendv(struct rds_sync *s, int argc, const char **argv, const size_t *argvlen);
/* Waits up to timeout_ms (-1 = forever) for the next reply or pub/sub message.
 * CS_OK with *out set; CS_ERR_STATE on timeout (the connection stays usable); CS_ERR_IO. */
int rds_sync_read(struct rds_sync *s, int timeout_ms, struct rds_reply **out);
const char *rds_sync_error(const struct rds_sync *s);
void rds_reply_free(struct rds_reply *rp);

#endif
