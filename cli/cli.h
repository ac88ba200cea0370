/* cli.h - swarm-cli internals shared by its files. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/cmd.h"
#include "cs/ids.h"
#include "cs/keys.h"
#include "cs/opts.h"
#include "cs/rds.h"

/* Entries kept in {ns}:cmdlog (approximately: MAXLEN ~). */
#define CS_CMDLOG_MAX 100000

/* Exit codes. */
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
/* Reads {ns}:fleet (size, id_format...). */
bool cli_load_fleet(struct cli *c);
const char *cli_key(struct cli *c, char *out, enum cs_key k, const char *arg);
/* Validates, publishes on {ns}:cmd, waits for every live worker's reply, prints a summary.
 * Takes the parsed command; returns an exit code. `quiet` prints nothing on success. */
int cli_send(struct cli *c, struct cmd *cmd, bool quiet);
/* Parses a command line and sends it. */
int cli_send_line(struct cli *c, const char *line, bool quiet);
/* Tells the live workers to re-read a key now (reload KEY); nothing when none runs. */
int cli_reload(struct cli *c, const char *key);
/* Rebuilds a command line from argv words, quoting values that need it. */
void cli_join_args(struct buf *b, int argc, char **argv);
/* Names of live workers (agent key present); caller frees with kv_free (keys = names). */
void cli_live_workers(struct cli *c, struct kvlist *out);

int cmd_status(struct cli *c, int argc, char **argv);
int cmd_agents(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);
int cmd_scale(struct cli *c, int argc, char **argv);
int cmd_watch(struct cli *c, int argc, char **argv);
int cmd_catalog(struct cli *c, int argc, char **argv);
int cmd_replay(struct cli *c, int argc, char **argv);
int cmd_completion(struct cli *c, int argc, char **argv);

#endif
