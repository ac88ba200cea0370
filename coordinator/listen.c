/* listen.c - listener addresses, origins and the exposure check. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "cs/mem.h"
#include "cs/util.h"
#include "listen.h"

int listen_parse(const char *s, char *host, size_t hostlen, int *port, struct cs_error *err)
{
    const char *colon = strrchr(s, ':');
    int64_t p;
    if (!colon || !cs_parse_i64(colon + 1, 0, 65535, &p))
        return cs_error_set(err, CS_ERR_INVAL, "'%s': expected ADDR:PORT (PORT 0..65535)", s);
    const char *h = s;
    size_t n = (size_t)(colon - s);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    } else if (memchr(h, ':', n)) {
        return cs_error_set(err, CS_ERR_INVAL, "'%s': write IPv6 addresses as [ADDR]:PORT", s);
    }
    if (n == 0) {
        h = "0.0.0.0";
        n = 7;
    }
    if (n >= hostlen)
        return cs_error_set(err, CS_ERR_TOO_BIG, "'%s': address too long", s);
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)p;
    return CS_OK;
}

bool listen_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return strcasecmp(host, "localhost") == 0;
}

int listen_check_origin(const char *origin, size_t max, struct cs_error *err)
{
    const char *a = strstr(origin, "://");
    size_t sl = a ? (size_t)(a - origin) : 0;
    if (!a || !((sl == 4 && strncmp(origin, "http", 4) == 0) ||
                (sl == 5 && strncmp(origin, "https", 5) == 0)))
        return cs_error_set(err, CS_ERR_INVAL, "'%s': expected http://HOST[:PORT] or https://...",
                            origin);
    if (!a[3] || a[3] == ':' || strpbrk(a + 3, "/?#@ \t"))
        return cs_error_set(err, CS_ERR_INVAL, "'%s': an origin is SCHEME://HOST[:PORT], no path",
                            origin);
    if (strlen(origin) >= max)
        return cs_error_set(err, CS_ERR_TOO_BIG, "'%s': longer than %zu", origin, max - 1);
    return CS_OK;
}

int listen_check(const struct listen_plan *p, struct cs_error *err)
{
    if (p->tls_cert != p->tls_key)
        return cs_error_set(err, CS_ERR_INVAL, "http-tls-cert and http-tls-key go together");
    const struct {
        const char *flag, *addr;
        bool commands;
    } lis[] = {
        {"--http", p->http, p->commands},
        {"--metrics-listen", p->metrics, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(lis); i++) {
        char host[LISTEN_MAX];
        int port;
        if (!lis[i].addr || !*lis[i].addr)
            continue;
        int rc = listen_parse(lis[i].addr, host, sizeof(host), &port, err);
        if (rc != CS_OK)
            return rc;
        if (listen_loopback(host) || p->insecure)
            continue;
        if (lis[i].commands && !p->credentials)
            return cs_error_set(
                err, CS_ERR_STATE,
                "%s %s takes commands from other hosts and no credentials are set: add "
                "`http-user = NAME:operator:PASSWORD` to the config file or SWARM_HTTP_USER "
                "(docs/security.md), bind 127.0.0.1, or pass --http-read-only or --http-insecure",
                lis[i].flag, lis[i].addr);
        if (p->credentials && !p->tls_cert)
            return cs_error_set(
                err, CS_ERR_STATE,
                "%s %s would take passwords from other hosts in clear text: set http-tls-cert "
                "and http-tls-key, bind 127.0.0.1 (behind a TLS proxy), or pass --http-insecure",
                lis[i].flag, lis[i].addr);
    }
    return CS_OK;
}
