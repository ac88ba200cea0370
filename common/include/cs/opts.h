/* opts.h - the flags every binary shares: --redis, --namespace, --log-level, --help,
 * --version, with SWARM_REDIS / SWARM_NAMESPACE / SWARM_LOG_LEVEL as fallbacks. */
#ifndef CS_OPTS_H
#define CS_OPTS_H

#include <getopt.h>

#include "cs/err.h"
#include "cs/url.h"

#define CS_NS_MAX 48

struct cs_common_opts {
    char redis[512];
    struct redis_url url;
    char ns[CS_NS_MAX + 1];
    int log_level;
};

enum {
    CS_OPT_REDIS = 0x1000,
    CS_OPT_NAMESPACE,
    CS_OPT_LOG_LEVEL,
    CS_OPT_CONFIG,
    CS_OPT_PRINT_CONFIG
};

/* getopt_long rows for the common flags (-h and -V are the short forms of help/version). */
#define CS_COMMON_LONGOPTS                                                                         \
    {"redis", required_argument, NULL, CS_OPT_REDIS},                                              \
        {"namespace", required_argument, NULL, CS_OPT_NAMESPACE},                                  \
        {"log-level", required_argument, NULL, CS_OPT_LOG_LEVEL},                                  \
        {"config", required_argument, NULL, CS_OPT_CONFIG},                                        \
        {"print-config", no_argument, NULL, CS_OPT_PRINT_CONFIG},                                  \
        {"help", no_argument, NULL, 'h'},                                                          \
    {                                                                                              \
        "version", no_argument, NULL, 'V'                                                          \
    }

/* Directory of the optional per-program config files (<dir>/<program>.conf). */
#define CS_CONFIG_DIR "/etc/chargeswarm"

/* Defaults, then the environment (programs without a config file). */
void cs_opts_init(struct cs_common_opts *o);
/* Defaults only. */
void cs_opts_defaults(struct cs_common_opts *o);

/* A program's own options: store `arg` for `opt`. Returns 0, CS_OPTS_DONE after printing help
 * or the version (the program exits 0), or an error code with *err filled. */
typedef int cs_opt_fn(void *ctx, int opt, const char *arg, struct cs_error *err);
#define CS_OPTS_DONE 1

/* More about some of a program's options: a row per option, ended by {0}. */
struct cs_optx {
    int opt;         /* its getopt code */
    const char *env; /* an environment variable that sets it too (after the file), or NULL */
    unsigned flags;  /* CS_OPTX_* */
    int shown;       /* CS_OPTX_SECRET: how many leading ':'-fields --print-config shows */
};
enum {
    CS_OPTX_SECRET = 1 << 0,  /* never printed past its first `shown` fields: NAME:ROLE:*** */
    CS_OPTX_NO_FLAG = 1 << 1, /* config file or environment only: every user of the host sees a
                               * command line (ps) */
    CS_OPTX_MULTI = 1 << 2,   /* may be given several times; every value is applied */
};

struct cs_optparse {
    const char *prog;              /* its config file is CS_CONFIG_DIR/<prog>.conf */
    const struct option *longopts; /* including CS_COMMON_LONGOPTS */
    const char *shortopts;         /* "hV" (a leading '+' stops at the first operand) */
    cs_opt_fn *apply;
    void *ctx;
    struct cs_common_opts *common;
    int first_operand; /* out: argv index of the first non-option (with '+') */
};

/* defaults (already in place) < config file < environment < flags; then checks the common
 * options. Returns 0 to go on, CS_OPTS_DONE when the program should exit 0 (help, version,
 * --print-config shown), or 2 after printing a usage error. */
int cs_opts_parse(struct cs_optparse *p, int argc, char **argv);
/* The same for a program with options that cs_optx rows describe ({0}-terminated). */
int cs_opts_parse_x(struct cs_optparse *p, const struct cs_optx *optx, int argc, char **argv);
/* 1 if opt was a common flag and was stored, 0 if not common, <0 on a bad value. */
int cs_opts_handle(struct cs_common_opts *o, int opt, const char *arg, struct cs_error *err);
/* Parses the Redis URL and checks the namespace. */
int cs_opts_finish(struct cs_common_opts *o, struct cs_error *err);
/* Help lines for the common flags. */
const char *cs_opts_help(void);
/* Namespace: [A-Za-z0-9_.-]{1,48}. */
bool cs_ns_valid(const char *ns);

#endif
