/* reply.h - the replies workers publish on {ns}:reply, as the sender of a command reads them:
 * which replies answer it, the tally over them and the one-line summary that swarm-cli and the
 * coordinator's command form both print. Replies are network input: bad counts read as 0. */
#ifndef CS_REPLY_H
#define CS_REPLY_H

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/cmd.h"

struct reply_tally {
    int replied;       /* replies counted */
    int with_match;    /* ... from workers that matched at least one charger */
    int nerr;          /* error strings in them */
    long long matched; /* chargers the workers matched */
    long long done;    /* ... and acted on */
};

/* The reply object in payload when it is a first answer to a command (not a later run of a
 * scheduled one), with that command's id in *id (pointing into the object); NULL otherwise.
 * The caller frees the object with cJSON_Delete. */
cJSON *reply_parse(const char *payload, size_t len, const char **id);

/* Counts one reply; on_error (when not NULL) gets each error string with its number (1, 2, ...)
 * and the replying worker's name ("?" when the reply has none). */
void reply_tally_add(struct reply_tally *t, const cJSON *reply,
                     void (*on_error)(void *ctx, int n, const char *worker, const char *msg),
                     void *ctx);

/* "trigger: 10 chargers on 1 worker, 10 done, 0 errors", or "...: scheduled on 2 workers, ..."
 * for commands with at=/in=/every=; a repeating one names how to stop it: `cancel` is the
 * command that cancels (e.g. "swarm-cli cancel"). No newline. */
void reply_summary(const struct reply_tally *t, const struct cmd *c, const char *cancel,
                   struct buf *out);

#endif
