/* web.h - the coordinator's HTTP side (libevent evhttp): GET /metrics (Prometheus) and the
 * dashboard: GET / (one embedded HTML page), GET /api/status, GET /api/events and
 * POST /api/command. Every GET is answered from memory (obs.h); a command is logged and
 * published at once and answered later from the loop, when every live worker has replied or
 * after WEB_CMD_TIMEOUT_MS. A second Redis connection (pub/sub) follows {ns}:events and
 * {ns}:reply. */
#ifndef CS_COORD_WEB_H
#define CS_COORD_WEB_H

#include <stddef.h>

#include "cs/cfg.h"
#include "cs/err.h"
#include "cs/rds.h"
#include "cs/url.h"
#include "obs.h"

#define WEB_LISTEN_MAX 160
#define WEB_CMD_TIMEOUT_MS 3000   /* how long POST /api/command collects replies */
#define WEB_BODY_MAX (64 * 1024)  /* request bodies beyond this get 413 */
#define WEB_PENDING_MAX 16        /* commands waiting for replies at once; more get 503 */
#define WEB_CMDLOG_MAX 100000     /* {ns}:cmdlog MAXLEN ~, as swarm-cli (CS_CMDLOG_MAX) */

struct event_base;
struct web;

struct web_opts {
    const char *metrics_listen; /* "ADDR:PORT" serving /metrics only, or "" */
    const char *http_listen;    /* "ADDR:PORT" serving everything, or "" */
    const char *ns;
    const char *id;             /* this coordinator */
    struct redis_url url;       /* for the pub/sub connection */
    struct rds *r;              /* the coordinator's command connection; borrowed */
    struct obs *obs;            /* borrowed; outlives the web */
    const struct fleet_cfg *fleet; /* borrowed: id_format for checking selectors */
};

/* Checks "ADDR:PORT" ("[v6]:PORT", ":PORT" = every interface, PORT 0 = any free port). */
int web_parse_listen(const char *s, char *host, size_t hostlen, int *port, struct cs_error *err);

/* Binds the listeners (same address for both = one listener) and starts the pub/sub
 * connection. NULL with *err when a listener cannot be bound. Caller frees with web_free. */
struct web *web_new(struct event_base *base, const struct web_opts *o, struct cs_error *err);
/* Answers the commands still waiting with 503 (the loop must run a moment to send them);
 * returns how many. */
size_t web_stop(struct web *w);
/* Answers the commands still waiting (503) and closes everything. */
void web_free(struct web *w);

#endif
