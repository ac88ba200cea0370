/* cli.h - swarm-cli internals shared by its files. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>

#include "cs/astats.h"
#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/cmd.h"
#include "cs/err.h"
#include "cs/ids.h"
#include "cs/keys.h"
#include "cs/opts.h"
#include "cs/rds.h"

/* Exit codes. EXIT_REDIS: Redis unreachable, the connection lost, or an error reply (NOAUTH,
 * NOPERM, WRONGTYPE...) to a command whose result the output depends on. */
enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2, EXIT_REDIS = 3 };

struct cli {
    struct cs_common_opts common;
    bool json;
    int timeout_ms;
    struct rds_sync *r;
    struct fleet_cfg fleet;
    struct idfmt idf;
    bool fleet_loaded;
};

/* Connects on first use; prints the error and returns false when Redis is unreachable. */
bool cli_connect(struct cli *c);
/* The same without printing: false with the reason in *err. */
bool cli_try_connect(struct cli *c, struct cs_error *err);
/* Reads {ns}:fleet (size, id_format...); prints the error and returns false on a Redis failure. */
bool cli_load_fleet(struct cli *c);

/* ---- checked replies: every read whose result is printed or acted on goes through these ---- */

/* The reply types a caller accepts, one bit per enum rds_type. */
#define CLI_T(t) (1u << (t))
enum {
    CLI_ARRAY = CLI_T(RDS_ARRAY),                 /* HGETALL, ZRANGE, XRANGE, HMGET, SUBSCRIBE */
    CLI_STR = CLI_T(RDS_STRING) | CLI_T(RDS_NIL), /* GET, HGET, ZSCORE: nil = absent */
    CLI_INT = CLI_T(RDS_INT),                     /* EXISTS, PTTL, PUBLISH, HSET, HDEL, ZADD */
};

/* Returns r when it is of a `want` type (caller frees it). Otherwise frees r, returns NULL and
 * fills *err: CS_ERR_IO when there is no reply (connection lost or timed out: the connection
 * is unusable), CS_ERR_STATE for an error reply (its text, e.g. "NOAUTH Authentication
 * required."), CS_ERR_PARSE for a reply of another type. `what` names the command in that
 * message (its first word; may be NULL). */
struct rds_reply *cli_check(struct rds_sync *s, unsigned want, const char *what,
                            struct rds_reply *r, struct cs_error *err);
/* rds_sync_cmd / rds_sync_cmdv, checked: cli_cmd(s, CLI_ARRAY, &err, "HGETALL %s", key). */
#define CLI_FIRST_(x, ...) x
#define cli_cmd(s, want, err, ...)                                                                 \
    cli_check((s), (want), CLI_FIRST_(__VA_ARGS__, ""), rds_sync_cmd((s), __VA_ARGS__), (err))
#define cli_cmdv(s, want, err, argc, argv)                                                         \
    cli_check((s), (want), (argv)[0], rds_sync_cmdv((s), (argc), (argv), NULL), (err))
/* Collects n pipelined replies (rds_sync_append) into out[], the i-th checked against
 * want[i % nwant]. Reads all of them, so the connection stays in step, unless it fails. On
 * any failure: false with the first one in *err and out[] freed (all NULL). */
bool cli_read_all(struct rds_sync *s, struct rds_reply **out, size_t n, const unsigned *want,
                  size_t nwant, struct cs_error *err);
void cli_free_all(struct rds_reply **r, size_t n);
/* Prints "swarm-cli: Redis: MESSAGE" on stderr; returns EXIT_REDIS. */
int cli_redis_fail(const struct cs_error *err);
const char *cli_key(struct cli *c, char *out, enum cs_key k, const char *arg);
/* Sends a command as cmdsend.h describes (checked, routed, logged in {ns}:cmdlog as
 * cli:USER@HOST, published), waits for every live worker's reply and prints a summary. Takes
 * the contents of *cmd (the caller still calls cmd_free); returns an exit code. `quiet`
 * prints nothing on success. */
int cli_send(struct cli *c, struct cmd *cmd, bool quiet);
/* Parses a command line and sends it. */
int cli_send_line(struct cli *c, const char *line, bool quiet);
/* Tells the live workers to re-read a key now (reload KEY); nothing when none runs. Returns an
 * exit code. */
int cli_reload(struct cli *c, const char *key);
/* Rebuilds a command line from argv words, quoting values that need it. */
void cli_join_args(struct buf *b, int argc, char **argv);
/* Who sends a command or a config write, for {ns}:cmdlog's `by`: cli:USER@HOST. */
const char *cli_sender(char *out, size_t n);
/* Names of live workers (agent key present) added to *out (keys = names; caller frees it
 * with kv_free). False with *err on a Redis failure. */
bool cli_live_workers(struct cli *c, struct kvlist *out, struct cs_error *err);

/* ---- cfglog.c: config writes recorded in {ns}:cmdlog (for replay and config get) ---- */
/* key without "{ns}:" (borrowed: points into key). */
const char *cfglog_rel(struct cli *c, const char *key);
/* Records a write that succeeded: HSET of n words key,value,... / HDEL / DEL / ZADD (score) or
 * ZREM (score NULL) on {ns}:REL. A failure to record is reported on stderr. */
void cfglog_hset(struct cli *c, const char *rel, int n, const char *const *kv);
void cfglog_hdel(struct cli *c, const char *rel, int n, char *const *fields);
void cfglog_del(struct cli *c, const char *rel);
void cfglog_zset(struct cli *c, const char *rel, const char *member, const char *score);
/* Writes a recorded write again, each value checked as when it was written; *reload gets the
 * reload argument that makes workers read it. CS_ERR_IO (Redis) or a parse/range error. */
int cfglog_apply(struct cli *c, const char *json, char *reload, size_t reload_len,
                 struct cs_error *err);
/* The newest value of field in {ns}:REL that swarm-cli wrote and that passes the schema (the
 * last one the workers accepted through it), from the command log; *out NULL when none (caller
 * frees *out with cs_free). CS_ERR_IO on a Redis failure. */
int cfglog_last_value(struct cli *c, const char *rel, const char *field,
                      const struct cfg_schema *schema, char **out, struct cs_error *err);

/* ---- out.c: printing what came from outside ---- */
struct cJSON;
/* Prints a JSON value and a newline on stdout, through the project's writer (valid UTF-8). */
void cli_print_json(const struct cJSON *v);
/* s for the terminal, control characters as \xNN. Borrowed: valid until 8 more calls. */
const char *cli_safe(const char *s);
/* The same, keeping line breaks and tabs (multi-line text such as a template). */
const char *cli_safe_text(const char *s);

/* ---- snap.c: one reading of the fleet for status, agents and top ---- */
struct snap_worker {
    char name[96];
    struct kvlist agent, stats; /* {ns}:agent:{w}, {ns}:stats:{w} */
    double out_rate, in_rate;   /* between the two newest {ns}:ts:{w} samples */
    bool rated;                 /* ... when there are two (and no restart between them) */
    long long pttl;             /* lease left, ms */
};
struct snap {
    struct kvlist fleet, fstats; /* {ns}:fleet, {ns}:stats */
    char leader[128];
    char run_id[64], run_name[128]; /* the running run, "" when none */
    int64_t run_started_ms;
    struct snap_worker *w;    /* sorted by name; every live worker when `listed` */
    size_t n;                 /* rows in w */
    size_t workers;           /* live workers */
    bool listed;              /* w has them all (else: too many, the fleet figures stand in) */
    double out_rate, in_rate; /* the fleet's, between the two newest {ns}:ts samples */
    bool rated;
};
/* Gauges and rates: the live workers'; totals (errors, out, in): the fleet's {ns}:stats, which
 * never go down, when the coordinator has written it. */
struct snap_totals {
    long long chargers, connected, connecting, offline, disabled, errors, out, in, rss_kb;
    double out_rate, in_rate;
    bool rated; /* some worker has a rate */
};
/* Fills *s (freed with snap_free, also after a failure). False with *err on a Redis failure:
 * a view made of error replies read as empty data would show a healthy, empty fleet.
 * max_rows 0 reads every live worker; otherwise, when the coordinator's fresh fleet figures
 * count more than max_rows live workers, none is read (a few commands instead of five per
 * worker: at 2,000 workers a view would be a 2,000-row table) and the gauges and rates come
 * from the fleet's figures. */
#define SNAP_ALL 0
#define SNAP_ROWS 64 /* the views' default: more workers than a terminal shows */
bool snap_take(struct cli *c, struct snap *s, size_t max_rows, struct cs_error *err);
void snap_free(struct snap *s);
void snap_sum(const struct snap *s, struct snap_totals *t);
int snap_by_name(const void *a, const void *b);    /* qsort/bsearch on snap_worker */
long long snap_errors(const struct kvlist *stats); /* publish + connect failures */
int snap_window_s(const struct snap *s); /* the fleet's stats_window_s (its default when unset) */
/* A value of {ns}:fleet the workers and the coordinator reject (value NULL when none). */
struct snap_rejected {
    const char *value; /* borrowed from the snap */
    char why[256];
};
/* The fleet size in force (the coordinator's, else the hash's when valid, else 0), never a
 * rejected value; *rej (may be NULL) says whether the hash holds one. */
long long snap_fleet_size(const struct snap *s, struct snap_rejected *rej);

/* The fleet's actions ({ns}:stats conf.* / down.*), the busiest over the window first, at most
 * max; returns how many. The rows point into *a, which the caller frees (cs_free). */
size_t snap_actions(const struct snap *s, struct astats **a, struct astats_view *out, size_t max);

/* ---- run.c: runs ({ns}:runs, {ns}:run:{id}...) ---- */
struct run_start {
    const char *name;
    int64_t seed;              /* -1: none */
    const char *scenario;      /* the scenario's text, or NULL */
    const char *scenario_file; /* its path, or NULL */
    const char *thresholds;    /* one per line, or NULL */
};
struct run_stop {
    bool abrupt;        /* no `stop *` first */
    int timeout_s;      /* for open transactions to end */
    const char *reason; /* of the StopTransactions (default Local) */
    bool quiet;
};
/* Opens a run (id written to id); prints what went wrong; returns an exit code. */
int run_start(struct cli *c, const struct run_start *s, char *id, size_t idlen);
/* Ends the running run (id NULL) or run id. */
int run_stop(struct cli *c, const char *id, const struct run_stop *o);
/* stats reset: the running run counts from now. */
int run_reset(struct cli *c, bool quiet);
bool run_read(struct cli *c, const char *id, struct kvlist *rec, struct cs_error *err);
bool run_latest(struct cli *c, char *id, size_t n, bool *running, struct cs_error *err);
/* The running run's id ("" when none). */
bool run_open(struct cli *c, char *id, size_t n, struct cs_error *err);
bool run_id_valid(const char *id);
void run_doc_fields(struct buf *b);

/* ---- report.c ---- */
struct report;
enum report_format { RF_TABLE, RF_CSV, RF_JSON, RF_HTML };
bool report_format_of(const char *s, enum report_format *f);
/* A run's report (the newest run when id is NULL); NULL with *err (CS_ERR_NOTFOUND: no such
 * run; else Redis). */
struct report *cli_report_run(struct cli *c, const char *id, struct cs_error *err);
struct report *cli_report_range(struct cli *c, int64_t since, int64_t until, bool to_now,
                                struct cs_error *err);
/* Writes a report (stdout, or out: a file, or a CSV prefix); returns an exit code. */
int cli_report_output(struct report *r, enum report_format f, const char *out, bool quiet);
void cli_print_checks(const struct report *r, enum report_format f, const char *out);

int cmd_run(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
/* scenario.c: run FILE, run --check FILE. */
int cmd_scenario(struct cli *c, int argc, char **argv);

int cmd_status(struct cli *c, int argc, char **argv);
int cmd_agents(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);
int cmd_scale(struct cli *c, int argc, char **argv);
int cmd_watch(struct cli *c, int argc, char **argv);
int cmd_catalog(struct cli *c, int argc, char **argv);
int cmd_replay(struct cli *c, int argc, char **argv);
int cmd_completion(struct cli *c, int argc, char **argv);
/* top.c: the live full-screen view. */
int cmd_top(struct cli *c, int argc, char **argv);

#endif
