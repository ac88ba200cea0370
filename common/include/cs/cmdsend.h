/* cmdsend.h - sending one operator command, the way swarm-cli and the coordinator's command
 * form both do it (docs/design-notes.md, "Command delivery"):
 *
 *   1. check:   no internal verb, a selector that parses against the fleet's id_format;
 *   2. route:   a selector made only of IDs and ranges goes to the workers whose assigned
 *               ranges hold them ({ns}:cmd:{worker}); anything else is broadcast ({ns}:cmd);
 *   3. log:     XADD {ns}:cmdlog (fields id, cmd, to, by) before publishing, so a worker that
 *               misses the PUBLISH catches up; the published JSON then names the entry ("log");
 *   4. publish: to the live workers reached, one reply expected from each;
 *   5. tally:   the replies on {ns}:reply (reply.h), until all came or the sender gives up.
 *
 * No I/O here. cmdsend_next() hands out the Redis commands of the next step; the caller sends
 * them all (they may be pipelined) and feeds each reply back, in order, with cmdsend_feed();
 * then asks for the next step. swarm-cli drives it on a blocking connection, the coordinator
 * from its event loop. The caller subscribes to {ns}:reply before the first step and passes
 * every message to cmdsend_on_reply(). */
#ifndef CS_CMDSEND_H
#define CS_CMDSEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/cmd.h"
#include "cs/err.h"
#include "cs/ids.h"
#include "cs/rds.h"
#include "cs/reply.h"
#include "cs/util.h"

#define CMDSEND_LOG_MAX 100000    /* {ns}:cmdlog entries kept (XADD MAXLEN ~) */
#define CMDSEND_ERRORS_KEPT 20    /* error lines kept as text; the tally counts all */
#define CMDSEND_REPLIES_KEPT 1024 /* reply objects kept for the JSON result */
#define CMDSEND_BY_MAX 128        /* longest `by` (who sent it), NUL included */

struct cmdsend;

struct cmdsend_opts {
    const char *ns;
    const struct idfmt *idf; /* the fleet's id_format: selectors are checked and routed by it */
    const char *by;          /* who sends it, for {ns}:cmdlog: "cli:USER@HOST", "web:USER" */
    const char *id_prefix;   /* a command without an id gets PREFIX-xxxxxxxx */
    struct cs_rng *rng;      /* for that id; NULL: seeded from cs_seed_entropy() */
};

/* One Redis command: argv[0..argc), lengths in argl. Borrowed from the cmdsend. */
struct cmdsend_req {
    int argc;
    const char **argv;
    const size_t *argl;
};

/* Checks cmd and, when it passes, takes its contents (*cmd is left empty), gives it an id
 * (when it has none) and the sender's timestamp. NULL with *err when the command may not be
 * sent (then *cmd is untouched). Caller frees with cmdsend_free. */
struct cmdsend *cmdsend_new(struct cmd *cmd, const struct cmdsend_opts *o, struct cs_error *err);
void cmdsend_free(struct cmdsend *s);

/* The Redis commands of the next step, in *reqs (borrowed until the last of their replies is
 * fed). 0 when there is nothing (more) to send: published (cmdsend_published) or failed. */
size_t cmdsend_next(struct cmdsend *s, const struct cmdsend_req **reqs);
/* The reply to the next command handed out, in order; NULL when none came (connection lost).
 * CS_OK, or the error that ends the command (*err says why; nothing more is handed out). A
 * failed XADD is not one: the command goes out unlogged (cmdsend_log_error). */
int cmdsend_feed(struct cmdsend *s, const struct rds_reply *reply, struct cs_error *err);
/* A message from {ns}:reply: true when it is an answer to this command (then counted). Replies
 * may come before the PUBLISH is acknowledged. */
bool cmdsend_on_reply(struct cmdsend *s, const char *payload, size_t len);

/* Published: every PUBLISH acknowledged (or there was no live worker to publish to). */
bool cmdsend_published(const struct cmdsend *s);
/* Published and every worker reached has replied. */
bool cmdsend_complete(const struct cmdsend *s);
/* Monotonic ms when the PUBLISH step was handed out (0 before): replies are timed from it. */
int64_t cmdsend_published_ms(const struct cmdsend *s);

const struct cmd *cmdsend_cmd(const struct cmdsend *s);
bool cmdsend_routed(const struct cmdsend *s);        /* to the owners only */
const char *cmdsend_to(const struct cmdsend *s);     /* "*" or the owners, comma-separated */
long long cmdsend_expected(const struct cmdsend *s); /* live workers reached */
const struct reply_tally *cmdsend_tally(const struct cmdsend *s);
/* Why the command is not in {ns}:cmdlog (the Redis error), or NULL when it is. */
const char *cmdsend_log_error(const struct cmdsend *s);
/* The reply objects as received (the first CMDSEND_REPLIES_KEPT), a cJSON array. */
const cJSON *cmdsend_replies(const struct cmdsend *s);
/* The first CMDSEND_ERRORS_KEPT error lines, "worker: message"; *n of them. */
const char *const *cmdsend_error_lines(const struct cmdsend *s, size_t *n);

/* The one-line summary (no newline): reply_summary's line, or "VERB: no live worker holds the
 * selected chargers" / "VERB: no live workers are listening on {ns}:cmd" when nobody was
 * reached. `cancel` is how the reader stops a repeating command ("swarm-cli cancel"). */
void cmdsend_summary(const struct cmdsend *s, const char *cancel, struct buf *out);
/* The result fields shared by `swarm-cli --json` and POST /api/command, in this order: "id",
 * "cmd", "to", "log" (when logged), "workers_expected", "workers_replied", "matched", "done",
 * "errors", "ms" (given). Written into the open object of j. */
void cmdsend_result_fields(const struct cmdsend *s, int64_t ms, struct jw *j);
/* "replies": the reply objects as received (the first CMDSEND_REPLIES_KEPT). */
void cmdsend_result_replies(const struct cmdsend *s, struct jw *j);

#endif
