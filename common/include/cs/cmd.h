/* cmd.h - the command table and the parser for both command forms (DESIGN §5):
 *   line:  [@id] VERB [SELECTOR] [POSITIONAL...] [key=value...]
 *   JSON:  {"id":"c1","cmd":"trigger","select":"CP-1","msg":"Heartbeat","args":{...},"ts":...}
 * The table is the single place verbs are defined: the agent's dispatch, swarm-cli's
 * subcommands and help, and docs/commands.md all come from it. */
#ifndef CS_CMD_H
#define CS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"
#include "cs/kv.h"

#define CMD_MAX_LEN 65536 /* larger payloads on the channel are refused */
#define CMD_MAX_TOKENS 256
#define CMD_ID_MAX 64
#define CMD_VALUE_MAX 4096

enum cmd_verb {
    CMD_TRIGGER,
    CMD_START,
    CMD_STOP,
    CMD_PLUG,
    CMD_UNPLUG,
    CMD_FAULT,
    CMD_CLEAR,
    CMD_REBOOT,
    CMD_OFFLINE,
    CMD_ONLINE,
    CMD_STATUS,
    CMD_PAUSE,
    CMD_RESUME,
    CMD_RELOAD,
    CMD_PING,
    CMD_CANCEL,
    CMD_SCHEDULES,
    CMD_GARBLE,
    CMD_DUP,
    CMD_STORM,
    CMD_AUTHORIZE,
    CMD__COUNT
};

enum cmd_flags {
    CMD_F_SEL = 1 << 0,      /* first argument is a selector (required) */
    CMD_F_ANY_KEYS = 1 << 1, /* any key=value is accepted (message field overrides) */
    CMD_F_INTERNAL = 1 << 2, /* sent by the coordinator, not by operators */
    CMD_F_MUTATES = 1 << 3,  /* changes charger behaviour or state */
};

#define CMD_MAX_POS 2

struct cmd_key {
    const char *name;
    const char *help;
};

struct cmd_def {
    const char *name;
    enum cmd_verb verb;
    unsigned flags;
    const char *pos[CMD_MAX_POS]; /* names of positional arguments after the selector */
    int pos_min;                  /* how many of them are required */
    const struct cmd_key *keys;   /* accepted key=value names, {NULL} terminated */
    const char *usage;
    const char *summary;
    const char *example;
};

struct cmd {
    char id[CMD_ID_MAX + 1]; /* "" when the sender gave none */
    const struct cmd_def *def;
    char *select;           /* owned; NULL for verbs without a selector */
    char *pos[CMD_MAX_POS]; /* owned */
    int npos;
    struct kvlist args; /* key=value arguments, in order */
    int64_t ts_ms;      /* sender's wall clock (ms) when given, else 0 */
    /* scheduling (any verb): at= absolute time, in= delay, every= period, count= runs */
    int64_t at_ms, in_ms, every_ms;
    int64_t count;   /* 0 = once, or unlimited with every= */
    char log_id[32]; /* {ns}:cmdlog entry the command came through, "" if none */
};

/* The table, in display order. */
const struct cmd_def *cmd_table(size_t *n);
const struct cmd_def *cmd_lookup(const char *name);
/* True when the command runs later or repeatedly (at=, in=, every=). */
bool cmd_scheduled(const struct cmd *c);
/* Keys every verb accepts (ts=, at=, in=, every=, count=). */
const struct cmd_key *cmd_common_keys(void);

/* Parses either form; JSON when the first non-blank byte is '{' or '['. On error *out is left
 * empty and *err names what was wrong and where. Free a parsed command with cmd_free. */
int cmd_parse(const char *text, size_t len, struct cmd *out, struct cs_error *err);
void cmd_free(struct cmd *c);
/* The positional argument called `name`, or NULL. */
const char *cmd_pos(const struct cmd *c, const char *name);
/* The seed of a command's random: selectors when neither the selector nor the fleet names one
 * (fleet seed 0 = a new sample per command): a hash of the command as every worker parsed it
 * (id, ts, verb, selector, arguments; not the command-log position), so every worker picks the
 * same sample, and two commands differ unless they are the same text without an id or ts. */
uint64_t cmd_seed(const struct cmd *c);
/* Serialises to the JSON form (what swarm-cli publishes). */
void cmd_to_json(const struct cmd *c, struct buf *out);
/* The line form of c ("trigger CP-000001 DataTransfer messageId=x"), with "@ID " first when
 * with_id; values quoted where the parser needs it. cmd_parse reads it back to the same command
 * (its sender's ts= left out). */
void cmd_to_line(const struct cmd *c, bool with_id, struct buf *out);
/* Appends one command-line argument, quoted where needed: KEY=VALUE keeps KEY bare. */
void cmd_quote_arg(struct buf *b, const char *arg);
/* Best-effort id of a payload that failed to parse (for the error reply); "" if none. */
void cmd_salvage_id(const char *text, size_t len, char id[CMD_ID_MAX + 1]);
/* Valid command id: [A-Za-z0-9_.:-]{1,64}. */
bool cmd_id_valid(const char *id);

/* Markdown reference of the whole table (docs/commands.md). */
void cmd_doc_markdown(struct buf *out);

#endif
