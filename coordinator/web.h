/* web.h - the coordinator's HTTP side (libevent evhttp): GET /metrics (Prometheus) and the
 * dashboard: GET / (one embedded HTML page) and its JSON API (/api/...). Every GET is answered
 * from memory (obs.h); a command is sent as swarm-cli sends it (cmdsend.h) and answered later
 * from the loop, when every live worker reached has replied or after WEB_CMD_TIMEOUT_MS.
 *
 * Access (docs/security.md): with credentials configured (auth.h) every endpoint but the page
 * itself and the sign-in wants a role: viewer for the page's data and /metrics, operator for
 * commands; without, everyone may do everything, and the listeners must then be on loopback
 * (or --http-insecure). Optional TLS on both listeners (tls.h), with HSTS. Requests that change
 * something (sign-in, sign-out, commands) must be JSON, come from the page's own origin (or one
 * configured) and, when signed in with the session cookie, carry the session's CSRF token;
 * commands and wrong credentials are rate-limited per client address (ratelimit.h). */
#ifndef CS_COORD_WEB_H
#define CS_COORD_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "cs/cfg.h"
#include "cs/err.h"
#include "cs/rds.h"
#include "cs/url.h"
#include "listen.h"
#include "obs.h"

#define WEB_CMD_TIMEOUT_MS 3000  /* how long POST /api/command collects replies */
#define WEB_BODY_MAX (64 * 1024) /* request bodies beyond this get 413 */
#define WEB_PENDING_MAX 16       /* commands waiting for replies at once; more get 503 */
#define WEB_PENDING_PER_CLIENT 4 /* ... of them from one client address; more get 429 */
#define WEB_ORIGINS_MAX 8        /* http-origin values */
#define WEB_ORIGIN_MAX 128

struct event_base;
struct web;

struct web_opts {
    const char *metrics_listen; /* "ADDR:PORT" serving /metrics only, or "" */
    const char *http_listen;    /* "ADDR:PORT" serving everything, or "" */
    const char *ns;
    const char *id;                 /* this coordinator */
    struct redis_url url;           /* for the pub/sub connection */
    struct rds *r;                  /* the coordinator's command connection; borrowed */
    struct obs *obs;                /* borrowed; outlives the web */
    const struct fleet_cfg *fleet;  /* borrowed: id_format for checking selectors */
    const struct auth *auth;        /* borrowed; no credentials: open to whoever reaches it */
    const char *tls_cert, *tls_key; /* PEM files, both or neither ("" or NULL = plain HTTP) */
    const char (*origins)[WEB_ORIGIN_MAX]; /* more Origins allowed to post (a proxy's) */
    size_t norigins;
    bool read_only; /* no commands (the page hides its command line) */
    bool insecure;  /* --http-insecure: allow what web_check_access refuses */
};

/* Refuses, unless o->insecure, what would expose the fleet (listen_check): a listener other
 * hosts can reach that serves commands with no credentials configured, or credentials in
 * clear text (no TLS); and a certificate without its key. *err says how to fix it. */
int web_check_access(const struct web_opts *o, struct cs_error *err);

/* Binds the listeners (same address for both = one listener), loads the TLS certificate and
 * starts the pub/sub connection. NULL with *err when a listener cannot be bound or the
 * certificate not loaded. Caller frees with web_free. */
struct web *web_new(struct event_base *base, const struct web_opts *o, struct cs_error *err);
/* Answers the commands still waiting with 503 (the loop must run a moment to send them);
 * returns how many. */
size_t web_stop(struct web *w);
/* Answers the commands still waiting (503) and closes everything. */
void web_free(struct web *w);

#endif
