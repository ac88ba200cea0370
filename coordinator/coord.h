/* coord.h - the coordinator: leader lock, worker membership by lease, assignment of charger
 * index ranges, fleet stats. All state lives in Redis; a restarted coordinator carries on. */
#ifndef CS_COORD_H
#define CS_COORD_H

#include <stdbool.h>

#include "auth.h"
#include "cs/opts.h"
#include "web.h"

struct coord_opts {
    struct cs_common_opts common;
    char id[128];                    /* lock holder id, default host:pid */
    int tick_ms;                     /* how often membership and assignment are checked */
    int lock_ttl_ms;                 /* leader lock lifetime; renewed every tick */
    char metrics_listen[LISTEN_MAX]; /* ADDR:PORT for GET /metrics, "" = off */
    char http_listen[LISTEN_MAX];    /* ADDR:PORT for the dashboard (and /metrics), "" = off */
    /* access to both (docs/security.md) */
    struct auth auth;                              /* http-user, http-token */
    char tls_cert[512], tls_key[512];              /* http-tls-cert, http-tls-key */
    char origins[WEB_ORIGINS_MAX][WEB_ORIGIN_MAX]; /* http-origin */
    size_t norigins;
    bool read_only; /* --http-read-only */
    bool insecure;  /* --http-insecure */
};

/* The web options that come from o (listeners, namespace, access); coord_run adds its Redis
 * connection, obs and the fleet settings. */
void coord_web_opts(const struct coord_opts *o, struct web_opts *wo);
/* Runs until SIGTERM/SIGINT; returns the exit code. */
int coord_run(const struct coord_opts *o);

#endif
