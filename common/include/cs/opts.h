/* opts.h - the flags every binary shares: --redis, --namespace, --log-level, --help,
 * --version, with SWARM_REDIS / SWARM_NAMESPACE / SWARM_LOG_LEVEL as fallbacks. */
#ifndef CS_OPTS_H
#define CS_OPTS_H

#include "cs/err.h"
#include "cs/url.h"

#define CS_NS_MAX 48

struct cs_common_opts {
    char redis[512];
    struct redis_url url;
    char ns[CS_NS_MAX + 1];
    int log_level;
};

enum { CS_OPT_REDIS = 0x1000, CS_OPT_NAMESPACE, CS_OPT_LOG_LEVEL };

/* getopt_long rows for the common flags (-h and -V are the short forms of help/version). */
#define CS_COMMON_LONGOPTS                                                                         \
    {"redis", required_argument, NULL, CS_OPT_REDIS},                                              \
        {"namespace", required_argument, NULL, CS_OPT_NAMESPACE},                                  \
        {"log-level", required_argument, NULL, CS_OPT_LOG_LEVEL},                                  \
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}

/* Defaults, then the environment. */
void cs_opts_init(struct cs_common_opts *o);
/* 1 if opt was a common flag and was stored, 0 if not common, <0 on a bad value. */
int cs_opts_handle(struct cs_common_opts *o, int opt, const char *arg, struct cs_error *err);
/* Parses the Redis URL and checks the namespace. */
int cs_opts_finish(struct cs_common_opts *o, struct cs_error *err);
/* Help lines for the common flags. */
const char *cs_opts_help(void);
/* Namespace: [A-Za-z0-9_.-]{1,48}. */
bool cs_ns_valid(const char *ns);

#endif
