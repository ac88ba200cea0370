/* opts.c - the shared flags. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cs/ids.h"
#include "cs/log.h"
#include "cs/opts.h"
#include "cs/util.h"

void cs_opts_init(struct cs_common_opts *o)
{
    memset(o, 0, sizeof(*o));
    const char *e = getenv("SWARM_REDIS");
    cs_strlcpy(o->redis, e && *e ? e : CS_REDIS_URL_DEFAULT, sizeof(o->redis));
    e = getenv("SWARM_NAMESPACE");
    cs_strlcpy(o->ns, e && *e ? e : "swarm", sizeof(o->ns));
    e = getenv("SWARM_LOG_LEVEL");
    o->log_level = e && cs_log_parse_level(e) >= 0 ? cs_log_parse_level(e) : CS_LOG_INFO;
}

bool cs_ns_valid(const char *ns)
{
    size_t n = strlen(ns);
    if (n == 0 || n > CS_NS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!cs_id_char(ns[i]))
            return false;
    return true;
}

int cs_opts_handle(struct cs_common_opts *o, int opt, const char *arg, struct cs_error *err)
{
    switch (opt) {
    case CS_OPT_REDIS:
        if (!cs_strlcpy(o->redis, arg, sizeof(o->redis)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "--redis: URL too long");
        return 1;
    case CS_OPT_NAMESPACE:
        if (!cs_strlcpy(o->ns, arg, sizeof(o->ns)))
            return cs_error_set(err, CS_ERR_TOO_BIG, "--namespace: longer than %d", CS_NS_MAX);
        return 1;
    case CS_OPT_LOG_LEVEL:
        o->log_level = cs_log_parse_level(arg);
        if (o->log_level < 0)
            return cs_error_set(err, CS_ERR_INVAL,
                                "--log-level: '%s' is not one of error, warn, info, debug", arg);
        return 1;
    }
    return 0;
}

int cs_opts_finish(struct cs_common_opts *o, struct cs_error *err)
{
    if (!cs_ns_valid(o->ns))
        return cs_error_set(err, CS_ERR_INVAL, "namespace '%s': use [A-Za-z0-9_.-], 1..%d chars",
                            o->ns, CS_NS_MAX);
    return redis_url_parse(&o->url, o->redis, err);
}

const char *cs_opts_help(void)
{
    return "  --redis URL         Redis to use (default " CS_REDIS_URL_DEFAULT
           "; env SWARM_REDIS)\n"
           "                      redis://[user[:password]@]host[:port][/db]\n"
           "  --namespace NS      key and channel prefix (default swarm; env SWARM_NAMESPACE)\n"
           "  --log-level LEVEL   error, warn, info or debug (default info; env "
           "SWARM_LOG_LEVEL)\n"
           "  -h, --help          this help\n"
           "  -V, --version       print the version\n";
}
