/* listen.h - the HTTP listeners' addresses and what may be served on them: parsing ADDR:PORT
 * and origins, and the start-up check that refuses to expose the fleet (commands without
 * credentials, or credentials in clear text, on an address other hosts can reach). Pure. */
#ifndef CS_COORD_LISTEN_H
#define CS_COORD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "cs/err.h"

#define LISTEN_MAX 160 /* longest ADDR:PORT */

/* Checks "ADDR:PORT" ("[v6]:PORT", ":PORT" = every interface, PORT 0 = any free port). */
int listen_parse(const char *s, char *host, size_t hostlen, int *port, struct cs_error *err);
/* 127.0.0.0/8, ::1 or localhost. Anything else (other names included) may be reachable. */
bool listen_loopback(const char *host);
/* Checks "scheme://host[:port]" (http or https, no path, no user). */
int listen_check_origin(const char *origin, size_t max, struct cs_error *err);

/* What is about to be served. */
struct listen_plan {
    const char *http;    /* --http ADDR:PORT, or NULL/"" */
    const char *metrics; /* --metrics-listen ADDR:PORT, or NULL/"" */
    bool commands;       /* the dashboard takes commands (not --http-read-only) */
    bool credentials;    /* http-user / http-token given */
    bool tls_cert, tls_key;
    bool insecure; /* --http-insecure */
};
/* Refuses, unless insecure: a listener other hosts can reach that takes commands with no
 * credentials, or takes credentials without TLS; and a certificate without its key (or the
 * reverse). *err says how to fix it. */
int listen_check(const struct listen_plan *p, struct cs_error *err);

#endif
