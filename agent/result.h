/* result.h - what a command did on this worker, and its reply on {ns}:reply:
 *   {"id","worker","cmd","matched","done","skipped","failed","errors":[...],"ms",...}
 * matched = done + skipped + failed: a charger the selector matched either did it, had nothing
 * to do (clear on a charger with nothing Faulted), or failed. "errors" holds at most
 * RESULT_EXAMPLES example texts; the counts are the figures. A command refused as a whole (a
 * bad argument) says "refused":true with its reason in "errors". [loop] */
#ifndef CS_AGENT_RESULT_H
#define CS_AGENT_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/buf.h"

#define RESULT_EXAMPLES 10

struct result {
    uint64_t matched, done, skipped, failed;
    bool refused;
    int nex;
    struct buf ex; /* example texts: JSON array items */
    struct jw j;
    struct buf extra;     /* more members of the reply, already JSON: "k":v,"k2":v2 */
    int64_t run;          /* a run of a scheduled command: which one */
    int64_t scheduled_ms; /* a command just scheduled: its first run */
    bool held;            /* moved into a result_hold: the reply comes later */
};

/* A reply that waits for something the verb started (a reload's reads): the command pipeline
 * moves the result here; the verb completes it and calls finish, which sends and frees. */
struct result_hold {
    struct result r;
    void (*finish)(struct result_hold *h);
};

/* Moves r into h (r is left empty and marked held). */
void result_move(struct result *r, struct result_hold *h);

void result_init(struct result *r);
void result_free(struct result *r);
/* One matched charger's outcome: CS_OK done, CS_ERR_NOOP skipped, anything else failed (msg is
 * kept as an example). */
void result_charger(struct result *r, int rc, const char *msg);
/* The command is refused as a whole. */
void result_refuse(struct result *r, const char *msg);
/* A number of the verb's own in the reply (ping: "connected"). */
void result_extra(struct result *r, const char *key, int64_t value);
/* A value of the verb's own, already JSON (schedules: the list). */
void result_extra_json(struct result *r, const char *key, const char *json, size_t len);
/* The reply object. lag_ms < 0: none. */
void result_render(struct result *r, const char *id, const char *worker, const char *verb,
                   double ms, int64_t lag_ms, struct buf *out);

#endif
