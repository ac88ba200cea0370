/* reply.h - the replies workers publish on {ns}:reply, as the sender of a command reads them:
 * which replies answer it, the tally over them and the one-line summary that swarm-cli and the
 * coordinator's command form both print. Replies are network input: bad counts read as 0.
 *
 * A reply carries counts; its "errors" array holds at most 10 example texts:
 *   {"id","worker","cmd","matched","done","skipped","failed","errors":[...],"ms",...}
 * with matched = done + skipped + failed. skipped: selected chargers that had nothing to do
 * (clear with nothing Faulted, online when online); failed: real errors. A reply without
 * "failed" (an older worker) is counted by its error lines. */
#ifndef CS_REPLY_H
#define CS_REPLY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/cmd.h"

struct reply_tally {
    int replied;         /* replies counted */
    int with_match;      /* ... from workers that matched at least one charger */
    long long matched;   /* chargers the workers matched */
    long long done;      /* ... acted on */
    long long skipped;   /* ... that had nothing to do (not errors) */
    long long failed;    /* ... the action failed for */
    long long nerr;      /* errors: failed chargers, plus commands a worker refused outright */
    long long connected; /* ping: chargers the answering workers have connected */
    int lines;           /* error texts seen (examples; on_error got each) */
};

/* The reply object in payload when it is a first answer to a command (not a later run of a
 * scheduled one), with that command's id in *id (pointing into the object); NULL otherwise.
 * The caller frees the object with cJSON_Delete. */
cJSON *reply_parse(const char *payload, size_t len, const char **id);

/* Counts one reply; on_error (when not NULL) gets each error text with its number (1, 2, ...)
 * and the replying worker's name ("?" when the reply has none). */
void reply_tally_add(struct reply_tally *t, const cJSON *reply,
                     void (*on_error)(void *ctx, int n, const char *worker, const char *msg),
                     void *ctx);

/* True when the replies say the command found nothing to act on: a selector that matched no
 * charger, a cancel with no such schedule. Not for commands without a target (ping, reload)
 * nor scheduled ones. */
bool reply_nothing_matched(const struct reply_tally *t, const struct cmd *c);

/* "trigger: 10 chargers on 1 worker, 8 done, 2 skipped (nothing to do), 0 errors",
 * "ping: 2 workers answered, 1000 chargers held, 998 connected", "trigger: no charger matched
 * 'CP-01*' (2 workers answered)", or "...: scheduled on 2 workers, ..." for commands with
 * at=/in=/every=; a repeating one names how to stop it: `cancel` is the command that cancels
 * (e.g. "swarm-cli cancel"). No newline. */
void reply_summary(const struct reply_tally *t, const struct cmd *c, const char *cancel,
                   struct buf *out);

#endif
