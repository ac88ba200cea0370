/* cmd.c - command table and parsers for the line and JSON forms. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/cmd.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

static const struct cmd_key no_keys[] = {{NULL, NULL}};

static const struct cmd_key status_keys[] = {
    {"connector", "connector number (0 = the charge point); default: every connector"},
    {"errorCode",
     "OCPP error code for the StatusNotification (default NoError, OtherError when Faulted)"},
    {"info", "free text for the StatusNotification info field"},
    {NULL, NULL},
};

static const struct cmd_key trigger_keys[] = {
    {"connector", "connector whose state fills the message (default 1)"},
    {"FIELD", "any other key overrides that top-level field of the payload; for a "
              "user-defined message it is the {arg.FIELD} of its template"},
    {NULL, NULL},
};

static const struct cmd_key start_keys[] = {
    {"connector", "connector to charge on (default: the first free one)"},
    {"id_tag", "idTag to authorise (default: the id_tag config template)"},
    {"kw", "power drawn, kW (default and ceiling: max_kw)"},
    {"kwh", "energy after which the session ends by itself (default: none)"},
    {"minutes", "session length after which it ends by itself (default: none)"},
    {NULL, NULL},
};

static const struct cmd_key authorize_keys[] = {
    {"id_tag", "idTag to present (default: the id_tag config template)"},
    {NULL, NULL},
};

static const struct cmd_key stop_keys[] = {
    {"connector", "connector whose transaction stops (default: every open one)"},
    {"reason", "StopTransaction reason: Local (default), Remote, EVDisconnected, EmergencyStop, "
               "Other, PowerLoss, Reboot, HardReset, SoftReset, UnlockCommand, DeAuthorized"},
    {NULL, NULL},
};

static const struct cmd_key connector_key[] = {
    {"connector", "connector number (default: see the verb)"},
    {NULL, NULL},
};

static const struct cmd_key fault_keys[] = {
    {"code", "ChargePointErrorCode (default OtherError)"},
    {"connector", "connector number (default 1; 0 = the charge point)"},
    {"info", "free text for the StatusNotification info field"},
    {NULL, NULL},
};

static const struct cmd_key offline_keys[] = {
    {"seconds", "come back by itself after this long (default: stay offline until `online`)"},
    {NULL, NULL},
};

static const struct cmd_key common_keys[] = {
    {"ts", "sender's wall clock in ms since the epoch (swarm-cli sets it; used for latency)"},
    {"at", "run at this time: ISO-8601 (2026-11-28T10:00:00Z) or ms since the epoch"},
    {"in", "run after this delay: 250ms, 30s, 5m, 2h"},
    {"every", "repeat with this period (at least 100ms), until count runs or `cancel ID`"},
    {"count", "number of runs with every= (default: until cancelled)"},
    {NULL, NULL},
};

static const struct cmd_key garble_keys[] = {
    {"kind", "truncated (default), notjson, wrongtype, empty or binary"},
    {"msg", "message type whose topic carries it (default Heartbeat)"},
    {NULL, NULL},
};

/* The single definition of every verb. Indexed by enum cmd_verb. */
static const struct cmd_def table[] = {
    [CMD_TRIGGER] =
        {"trigger",
         CMD_TRIGGER,
         CMD_F_SEL | CMD_F_ANY_KEYS | CMD_F_MUTATES,
         {"msg", NULL},
         1,
         trigger_keys,
         "trigger SEL MSG [field=value ...]",
         "Send message MSG now from every selected charger (a built-in OCPP message or a "
         "user-defined one from {ns}:catalog); field=value pairs override fields of "
         "the payload.",
         "trigger CP-000042 StatusNotification status=Faulted errorCode=GroundFailure"},
    [CMD_START] = {"start",
                   CMD_START,
                   CMD_F_SEL | CMD_F_MUTATES,
                   {NULL, NULL},
                   0,
                   start_keys,
                   "start SEL [connector=N] [id_tag=T] [kw=K] [kwh=E] [minutes=M]",
                   "Plug in and charge: Preparing, Authorize, StartTransaction, Charging, then "
                   "MeterValues of the transaction every meter_s.",
                   "start CP-000001..CP-000100 kw=11 minutes=30"},
    [CMD_STOP] = {"stop",
                  CMD_STOP,
                  CMD_F_SEL | CMD_F_MUTATES,
                  {NULL, NULL},
                  0,
                  stop_keys,
                  "stop SEL [connector=N] [reason=R]",
                  "End the open transactions: StopTransaction with the final meter reading, "
                  "then Finishing (the cable stays in until unplug).",
                  "stop CP-000042 reason=EmergencyStop"},
    [CMD_PLUG] = {"plug",
                  CMD_PLUG,
                  CMD_F_SEL | CMD_F_MUTATES,
                  {NULL, NULL},
                  0,
                  connector_key,
                  "plug SEL [connector=N]",
                  "Plug a cable in (default: the first Available connector): Preparing.",
                  "plug CP-00001?"},
    [CMD_UNPLUG] = {"unplug",
                    CMD_UNPLUG,
                    CMD_F_SEL | CMD_F_MUTATES,
                    {NULL, NULL},
                    0,
                    connector_key,
                    "unplug SEL [connector=N]",
                    "Remove the cable (default: every plugged connector); an open transaction "
                    "ends with reason EVDisconnected.",
                    "unplug *"},
    [CMD_FAULT] = {"fault",
                   CMD_FAULT,
                   CMD_F_SEL | CMD_F_MUTATES,
                   {NULL, NULL},
                   0,
                   fault_keys,
                   "fault SEL [code=CODE] [connector=N] [info=TEXT]",
                   "Report a fault: Faulted with the error code; an open transaction stops.",
                   "fault CP-000042 code=GroundFailure"},
    [CMD_CLEAR] = {"clear",
                   CMD_CLEAR,
                   CMD_F_SEL | CMD_F_MUTATES,
                   {NULL, NULL},
                   0,
                   connector_key,
                   "clear SEL [connector=N]",
                   "Clear faults (default: every Faulted connector): back to Available or "
                   "Preparing.",
                   "clear *"},
    [CMD_REBOOT] = {"reboot",
                    CMD_REBOOT,
                    CMD_F_SEL | CMD_F_MUTATES,
                    {NULL, NULL},
                    0,
                    no_keys,
                    "reboot SEL",
                    "Stop transactions (reason Reboot), disconnect, reconnect and send "
                    "BootNotification.",
                    "reboot worker:lab-a.w0"},
    [CMD_OFFLINE] = {"offline",
                     CMD_OFFLINE,
                     CMD_F_SEL | CMD_F_MUTATES,
                     {NULL, NULL},
                     0,
                     offline_keys,
                     "offline SEL [seconds=S]",
                     "Lose the network: the connection drops without DISCONNECT; transaction "
                     "messages queue (offline_queue) and go out in order on return.",
                     "offline CP-0001* seconds=120"},
    [CMD_ONLINE] = {"online",
                    CMD_ONLINE,
                    CMD_F_SEL | CMD_F_MUTATES,
                    {NULL, NULL},
                    0,
                    no_keys,
                    "online SEL",
                    "End a simulated network loss now.",
                    "online *"},
    [CMD_STATUS] = {"status",
                    CMD_STATUS,
                    CMD_F_SEL | CMD_F_MUTATES,
                    {"status", NULL},
                    1,
                    status_keys,
                    "status SEL STATUS [connector=N] [errorCode=CODE] [info=TEXT]",
                    "Set the OCPP status of the selected chargers' connectors and send "
                    "StatusNotification for each.",
                    "status CP-000001..CP-000010 Charging"},
    [CMD_PAUSE] = {"pause",
                   CMD_PAUSE,
                   CMD_F_SEL | CMD_F_MUTATES,
                   {NULL, NULL},
                   0,
                   no_keys,
                   "pause SEL",
                   "Stop the periodic reports (Heartbeat, MeterValues) of the selected chargers; "
                   "they stay connected and still answer.",
                   "pause CP-0001*"},
    [CMD_RESUME] = {"resume",
                    CMD_RESUME,
                    CMD_F_SEL | CMD_F_MUTATES,
                    {NULL, NULL},
                    0,
                    no_keys,
                    "resume SEL",
                    "Restart the periodic reports of paused chargers.",
                    "resume *"},
    [CMD_RELOAD] = {"reload",
                    CMD_RELOAD,
                    0,
                    {"key", NULL},
                    0,
                    no_keys,
                    "reload [KEY]",
                    "Re-read live config from Redis now: everything, or one KEY: cfg, fleet, "
                    "catalog or charger:ID.",
                    "reload charger:CP-000042"},
    [CMD_PING] = {"ping",
                  CMD_PING,
                  0,
                  {NULL, NULL},
                  0,
                  no_keys,
                  "ping",
                  "Every worker answers with the number of chargers it holds and how many of "
                  "them are connected.",
                  "ping"},
    [CMD_CANCEL] = {"cancel",
                    CMD_CANCEL,
                    0,
                    {"cmd_id", NULL},
                    1,
                    no_keys,
                    "cancel ID",
                    "Cancel the scheduled or repeating commands with this id on every worker; "
                    "ID may be a glob (`cancel 'storm-*'`, `cancel '*'` for all).",
                    "cancel hb-storm"},
    [CMD_SCHEDULES] = {"schedules",
                       CMD_SCHEDULES,
                       0,
                       {NULL, NULL},
                       0,
                       no_keys,
                       "schedules",
                       "List the scheduled and repeating commands every worker holds: id, "
                       "verb, next run, period, runs done and left (at most 1000 per worker).",
                       "schedules"},
    [CMD_GARBLE] = {"garble",
                    CMD_GARBLE,
                    CMD_F_SEL | CMD_F_MUTATES,
                    {NULL, NULL},
                    0,
                    garble_keys,
                    "garble SEL [kind=K] [msg=M]",
                    "Chaos: the selected chargers publish a malformed frame, to test the "
                    "platform's input handling.",
                    "garble CP-000042 kind=notjson"},
    [CMD_DUP] = {"dup",
                 CMD_DUP,
                 CMD_F_SEL | CMD_F_MUTATES,
                 {NULL, NULL},
                 0,
                 no_keys,
                 "dup SEL",
                 "Chaos: the next message of each selected charger goes out twice (same id).",
                 "dup CP-00001?"},
    [CMD_STORM] = {"storm",
                   CMD_STORM,
                   CMD_F_SEL | CMD_F_MUTATES,
                   {NULL, NULL},
                   0,
                   no_keys,
                   "storm SEL",
                   "Chaos: the selected chargers drop their connections and reconnect all at "
                   "once, bypassing the ramp (a reconnect storm for the platform).",
                   "storm worker:lab-a.*"},
    [CMD_AUTHORIZE] = {"authorize",
                       CMD_AUTHORIZE,
                       CMD_F_SEL | CMD_F_MUTATES,
                       {NULL, NULL},
                       0,
                       authorize_keys,
                       "authorize SEL [id_tag=T]",
                       "Present an idTag without starting (a badge swiped): Authorize; the "
                       "platform's idTagInfo goes into the charger's Authorization Cache.",
                       "authorize CP-000042 id_tag=DRIVER-7"},
};
_Static_assert(ARRAY_SIZE(table) == CMD__COUNT, "command table out of step with enum cmd_verb");

const struct cmd_def *cmd_table(size_t *n)
{
    *n = ARRAY_SIZE(table);
    return table;
}

const struct cmd_def *cmd_lookup(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const struct cmd_key *cmd_common_keys(void)
{
    return common_keys;
}

bool cmd_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (n >= CMD_ID_MAX || !(isalnum((unsigned char)c) || strchr("_.:-", c)))
            return false;
    }
    return n > 0;
}

static bool key_valid(const char *k, size_t n)
{
    if (n == 0 || n > 64 || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)k[i]) || k[i] == '_' || k[i] == '.'))
            return false;
    return true;
}

static bool key_in(const struct cmd_key *keys, const char *k)
{
    for (; keys && keys->name; keys++)
        if (strcmp(keys->name, k) == 0)
            return true;
    return false;
}

void cmd_free(struct cmd *c)
{
    cs_free(c->select);
    for (int i = 0; i < CMD_MAX_POS; i++)
        cs_free(c->pos[i]);
    kv_free(&c->args);
    memset(c, 0, sizeof(*c));
}

const char *cmd_pos(const struct cmd *c, const char *name)
{
    for (int i = 0; i < c->npos; i++)
        if (c->def->pos[i] && strcmp(c->def->pos[i], name) == 0)
            return c->pos[i];
    return NULL;
}

/* The latest ts= / at=: 9999-12-31T23:59:59.999Z. Beyond 2^53 a time would not survive the
 * JSON form (numbers are doubles there). */
#define TIME_MAX_MS 253402300799999LL

/* Checks a key=value argument against the verb's table row and stores it. */
static int add_arg(struct cmd *c, const char *k, size_t kl, const char *v, size_t vl,
                   struct cs_error *err)
{
    char key[80];
    if (!key_valid(k, kl))
        return cs_error_set(err, CS_ERR_PARSE, "%s: bad key '%.*s'", c->def->name,
                            (int)cs_utf8_clip(k, kl > 40 ? 40 : kl), k);
    memcpy(key, k, kl);
    key[kl] = '\0';
    if (vl > CMD_VALUE_MAX)
        return cs_error_set(err, CS_ERR_TOO_BIG, "%s: value of '%s' longer than %d", c->def->name,
                            key, CMD_VALUE_MAX);
    if (key_in(common_keys, key)) {
        char tmp[64];
        int64_t x;
        if (vl >= sizeof(tmp))
            return cs_error_set(err, CS_ERR_PARSE, "%s: %s too long", c->def->name, key);
        memcpy(tmp, v, vl);
        tmp[vl] = '\0';
        if (strcmp(key, "ts") == 0) {
            if (!cs_parse_i64(tmp, 0, TIME_MAX_MS, &x))
                return cs_error_set(err, CS_ERR_PARSE, "%s: ts must be ms since the epoch",
                                    c->def->name);
            c->ts_ms = x;
        } else if (strcmp(key, "at") == 0) {
            if ((!cs_parse_i64(tmp, 1, TIME_MAX_MS, &x) && !ocpp_datetime_parse(tmp, &x)) ||
                x > TIME_MAX_MS)
                return cs_error_set(err, CS_ERR_PARSE,
                                    "%s: at= wants an ISO-8601 time or ms since the epoch",
                                    c->def->name);
            c->at_ms = x;
        } else if (strcmp(key, "in") == 0) {
            if (!cs_parse_duration_ms(tmp, &x) || x > 7LL * 86400000)
                return cs_error_set(err, CS_ERR_PARSE,
                                    "%s: in= wants a delay up to 7 days (250ms, 30s, 5m, 2h)",
                                    c->def->name);
            c->in_ms = x;
        } else if (strcmp(key, "every") == 0) {
            if (!cs_parse_duration_ms(tmp, &x) || x < 100 || x > 7LL * 86400000)
                return cs_error_set(err, CS_ERR_PARSE,
                                    "%s: every= wants a period of 100ms .. 7 days", c->def->name);
            c->every_ms = x;
        } else if (strcmp(key, "count") == 0) {
            if (!cs_parse_i64(tmp, 1, 1000000, &x))
                return cs_error_set(err, CS_ERR_PARSE, "%s: count= wants 1..1000000", c->def->name);
            c->count = x;
        }
        return CS_OK;
    }
    if (!(c->def->flags & CMD_F_ANY_KEYS) && !key_in(c->def->keys, key))
        return cs_error_set(err, CS_ERR_UNKNOWN, "%s: unknown argument '%s'", c->def->name, key);
    if (kv_get(&c->args, key))
        return cs_error_set(err, CS_ERR_PARSE, "%s: argument '%s' given twice", c->def->name, key);
    kv_setn(&c->args, key, kl, v, vl);
    return CS_OK;
}

bool cmd_scheduled(const struct cmd *c)
{
    return c->at_ms || c->in_ms || c->every_ms;
}

static int check_arity(struct cmd *c, struct cs_error *err)
{
    if (c->at_ms && c->in_ms)
        return cs_error_set(err, CS_ERR_PARSE, "%s: at= and in= together", c->def->name);
    if (c->count && !c->every_ms)
        return cs_error_set(err, CS_ERR_PARSE, "%s: count= needs every=", c->def->name);
    if (cmd_scheduled(c) && (c->def->verb == CMD_CANCEL || c->def->verb == CMD_SCHEDULES))
        return cs_error_set(err, CS_ERR_PARSE, "%s cannot be scheduled", c->def->name);
    if ((c->def->flags & CMD_F_SEL) && !c->select)
        return cs_error_set(err, CS_ERR_ARITY, "%s: missing selector; usage: %s", c->def->name,
                            c->def->usage);
    if (c->npos < c->def->pos_min)
        return cs_error_set(err, CS_ERR_ARITY, "%s: missing %s; usage: %s", c->def->name,
                            c->def->pos[c->npos], c->def->usage);
    return CS_OK;
}

/* ---- line form ---------------------------------------------------------------------------- */

struct token {
    char *text; /* owned, quotes removed */
    size_t len;
    long eq;    /* offset of the first unquoted '=', or -1 */
    size_t off; /* offset in the input, for messages */
};

/* Splits on blanks; "..." (with \" and \\ escapes) and '...' quote. */
static int tokenize(const char *s, size_t len, struct token *tok, int *ntok, struct cs_error *err)
{
    size_t i = 0;
    *ntok = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
            i++;
        if (i >= len)
            break;
        if (*ntok == CMD_MAX_TOKENS)
            return cs_error_set(err, CS_ERR_TOO_BIG, "more than %d words", CMD_MAX_TOKENS);
        struct buf b = BUF_INIT;
        struct token *t = &tok[*ntok];
        t->eq = -1;
        t->off = i;
        while (i < len && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
            char c = s[i];
            if (c == '"' || c == '\'') {
                size_t start = i++;
                while (i < len && s[i] != c) {
                    if (c == '"' && s[i] == '\\' && i + 1 < len)
                        i++;
                    buf_putc(&b, s[i++]);
                }
                if (i >= len) {
                    buf_free(&b);
                    return cs_error_set(err, CS_ERR_PARSE, "unterminated quote at offset %zu",
                                        start);
                }
                i++;
                continue;
            }
            if (c == '\0') {
                buf_free(&b);
                return cs_error_set(err, CS_ERR_PARSE, "NUL byte at offset %zu", i);
            }
            if (c == '=' && t->eq < 0)
                t->eq = (long)b.len;
            buf_putc(&b, c);
            i++;
        }
        t->len = b.len;
        t->text = buf_detach(&b);
        (*ntok)++;
    }
    return CS_OK;
}

static int parse_line(const char *s, size_t len, struct cmd *c, struct cs_error *err)
{
    struct token *tok = cs_calloc(CMD_MAX_TOKENS, sizeof(*tok));
    int ntok = 0, i = 0, rc = tokenize(s, len, tok, &ntok, err);
    if (rc)
        goto out;
    if (i < ntok && tok[i].text[0] == '@') {
        if (!cmd_id_valid(tok[i].text + 1)) {
            rc = cs_error_set(err, CS_ERR_PARSE, "bad command id '%.*s' ([A-Za-z0-9_.:-]{1,64})",
                              CS_UTF8_CLIP(tok[i].text, 70));
            goto out;
        }
        cs_strlcpy(c->id, tok[i].text + 1, sizeof(c->id));
        i++;
    }
    if (i >= ntok) {
        rc = cs_error_set(err, CS_ERR_PARSE, "empty command");
        goto out;
    }
    c->def = cmd_lookup(tok[i].text);
    if (!c->def) {
        rc =
            cs_error_set(err, CS_ERR_UNKNOWN, "unknown verb '%.*s'", CS_UTF8_CLIP(tok[i].text, 40));
        goto out;
    }
    i++;
    if ((c->def->flags & CMD_F_SEL) && i < ntok) {
        c->select = cs_strdup(tok[i].text);
        i++;
    }
    while (i < ntok && c->npos < CMD_MAX_POS && c->def->pos[c->npos] && tok[i].eq < 0) {
        c->pos[c->npos++] = cs_strdup(tok[i].text);
        i++;
    }
    for (; i < ntok; i++) {
        if (tok[i].eq < 0) {
            rc = cs_error_set(err, CS_ERR_PARSE,
                              "%s: unexpected argument '%.*s' at offset %zu (expected key=value)",
                              c->def->name, CS_UTF8_CLIP(tok[i].text, 40), tok[i].off);
            goto out;
        }
        size_t kl = (size_t)tok[i].eq;
        rc = add_arg(c, tok[i].text, kl, tok[i].text + kl + 1, tok[i].len - kl - 1, err);
        if (rc)
            goto out;
    }
    rc = check_arity(c, err);
out:
    for (int k = 0; k < ntok; k++)
        cs_free(tok[k].text);
    cs_free(tok);
    return rc;
}

/* ---- JSON form ---------------------------------------------------------------------------- */

/* Scalar JSON value as text: strings as-is, numbers in shortest form, booleans. */
static bool scalar_text(const cJSON *v, struct buf *out)
{
    if (cJSON_IsString(v)) {
        buf_puts(out, v->valuestring);
        return true;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9e15)
            buf_printf(out, "%lld", (long long)d);
        else
            buf_printf(out, "%.17g", d);
        return true;
    }
    if (cJSON_IsBool(v)) {
        buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
        return true;
    }
    return false;
}

/* A NUL would cut a string short once parsed (cJSON's strings end at the first NUL), so the
 * command would run with other text than was sent: raw NUL bytes and \u0000 escapes are
 * refused. Backslashes only occur inside strings in valid JSON, so each one starts an escape. */
static int check_no_nul(const char *s, size_t len, struct cs_error *err)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0')
            return cs_error_set(err, CS_ERR_PARSE, "NUL byte at offset %zu", i);
        if (s[i] != '\\' || i + 1 >= len)
            continue;
        if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
            return cs_error_set(err, CS_ERR_PARSE,
                                "\\u0000 (NUL) at offset %zu: not allowed in a command", i);
        i++; /* the escaped character */
    }
    return CS_OK;
}

static int parse_json(const char *s, size_t len, struct cmd *c, struct cs_error *err)
{
    int rc = check_no_nul(s, len, err);
    struct buf tmp = BUF_INIT;
    const char *end = NULL;
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, false);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= s && at <= s + len ? (size_t)(at - s) : 0;
        return cs_error_set(err, CS_ERR_PARSE, "invalid JSON near offset %zu", off);
    }
    /* cJSON stops after the first value: anything but blanks after it is not one command. */
    size_t rest = end && end >= s && end <= s + len ? (size_t)(end - s) : len;
    while (rest < len && isspace((unsigned char)s[rest]))
        rest++;
    if (rest < len) {
        rc = cs_error_set(err, CS_ERR_PARSE, "invalid JSON: trailing data at offset %zu", rest);
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        rc = cs_error_set(err, CS_ERR_PARSE, "JSON command must be an object");
        goto out;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (id && !cJSON_IsNull(id)) {
        buf_reset(&tmp);
        if (!scalar_text(id, &tmp) || !cmd_id_valid(buf_cstr(&tmp))) {
            rc = cs_error_set(err, CS_ERR_PARSE, "bad \"id\" ([A-Za-z0-9_.:-]{1,64})");
            goto out;
        }
        cs_strlcpy(c->id, buf_cstr(&tmp), sizeof(c->id));
    }
    const cJSON *verb = cJSON_GetObjectItemCaseSensitive(root, "cmd");
    if (!cJSON_IsString(verb)) {
        rc = cs_error_set(err, CS_ERR_PARSE, "JSON command needs a string \"cmd\"");
        goto out;
    }
    c->def = cmd_lookup(verb->valuestring);
    if (!c->def) {
        rc = cs_error_set(err, CS_ERR_UNKNOWN, "unknown verb '%.*s'",
                          CS_UTF8_CLIP(verb->valuestring, 40));
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        if (strcmp(k, "id") == 0 || strcmp(k, "cmd") == 0)
            continue;
        if (strcmp(k, "select") == 0 && (c->def->flags & CMD_F_SEL)) {
            if (!cJSON_IsString(it)) {
                rc = cs_error_set(err, CS_ERR_PARSE, "%s: \"select\" must be a string",
                                  c->def->name);
                goto out;
            }
            cs_free(c->select);
            c->select = cs_strdup(it->valuestring);
            continue;
        }
        if (strcmp(k, "log") == 0) {
            if (!cJSON_IsString(it) || strlen(it->valuestring) >= sizeof(c->log_id)) {
                rc = cs_error_set(err, CS_ERR_PARSE, "%s: \"log\" must be a stream entry id",
                                  c->def->name);
                goto out;
            }
            strcpy(c->log_id, it->valuestring);
            continue;
        }
        if (strcmp(k, "at") == 0 || strcmp(k, "in") == 0 || strcmp(k, "every") == 0 ||
            strcmp(k, "count") == 0) {
            buf_reset(&tmp);
            if (!scalar_text(it, &tmp)) {
                rc =
                    cs_error_set(err, CS_ERR_PARSE, "%s: \"%s\" must be a scalar", c->def->name, k);
                goto out;
            }
            rc = add_arg(c, k, strlen(k), buf_cstr(&tmp), tmp.len, err);
            if (rc)
                goto out;
            continue;
        }
        if (strcmp(k, "ts") == 0) {
            if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9e15) {
                rc = cs_error_set(err, CS_ERR_PARSE, "%s: \"ts\" must be ms since the epoch",
                                  c->def->name);
                goto out;
            }
            c->ts_ms = (int64_t)it->valuedouble;
            continue;
        }
        if (strcmp(k, "args") == 0) {
            if (!cJSON_IsObject(it)) {
                rc =
                    cs_error_set(err, CS_ERR_PARSE, "%s: \"args\" must be an object", c->def->name);
                goto out;
            }
            const cJSON *a;
            cJSON_ArrayForEach(a, it)
            {
                buf_reset(&tmp);
                if (!scalar_text(a, &tmp)) {
                    rc = cs_error_set(err, CS_ERR_PARSE, "%s: argument '%.*s' must be a scalar",
                                      c->def->name, CS_UTF8_CLIP(a->string, 40));
                    goto out;
                }
                rc = add_arg(c, a->string, strlen(a->string), buf_cstr(&tmp), tmp.len, err);
                if (rc)
                    goto out;
            }
            continue;
        }
        int p = -1;
        for (int i = 0; i < CMD_MAX_POS && c->def->pos[i]; i++)
            if (strcmp(c->def->pos[i], k) == 0)
                p = i;
        if (p < 0) {
            rc = cs_error_set(err, CS_ERR_UNKNOWN, "%s: unknown field \"%.*s\"", c->def->name,
                              CS_UTF8_CLIP(k, 40));
            goto out;
        }
        buf_reset(&tmp);
        if (!scalar_text(it, &tmp)) {
            rc = cs_error_set(err, CS_ERR_PARSE, "%s: \"%s\" must be a string", c->def->name, k);
            goto out;
        }
        cs_free(c->pos[p]);
        c->pos[p] = buf_detach(&tmp);
        if (p + 1 > c->npos)
            c->npos = p + 1;
    }
    for (int i = 0; i < c->npos; i++) {
        if (!c->pos[i]) {
            rc = cs_error_set(err, CS_ERR_ARITY, "%s: \"%s\" given without \"%s\"", c->def->name,
                              c->def->pos[c->npos - 1], c->def->pos[i]);
            goto out;
        }
    }
    rc = check_arity(c, err);
out:
    buf_free(&tmp);
    cJSON_Delete(root);
    return rc;
}

int cmd_parse(const char *text, size_t len, struct cmd *out, struct cs_error *err)
{
    memset(out, 0, sizeof(*out));
    if (len > CMD_MAX_LEN)
        return cs_error_set(err, CS_ERR_TOO_BIG, "command of %zu bytes exceeds the %d-byte cap",
                            len, CMD_MAX_LEN);
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    /* '[' is no verb either: a JSON array gets the JSON form's "must be an object". */
    int rc = (i < len && (text[i] == '{' || text[i] == '['))
                 ? parse_json(text + i, len - i, out, err)
                 : parse_line(text, len, out, err);
    if (rc) {
        char id[CMD_ID_MAX + 1];
        memcpy(id, out->id, sizeof(id));
        cmd_free(out);
        memcpy(out->id, id, sizeof(id));
    }
    return rc;
}

void cmd_salvage_id(const char *text, size_t len, char id[CMD_ID_MAX + 1])
{
    id[0] = '\0';
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '@') {
        size_t n = 0;
        i++;
        while (i < len && n < CMD_ID_MAX && !isspace((unsigned char)text[i]))
            id[n++] = text[i++];
        id[n] = '\0';
        if (i < len && !isspace((unsigned char)text[i]))
            id[0] = '\0'; /* longer than CMD_ID_MAX: not an id, and not its prefix either */
    } else if (i < len && text[i] == '{') {
        cJSON *root = cJSON_ParseWithLength(text + i, len - i);
        const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
        struct buf b = BUF_INIT;
        /* The same ids cmd_parse accepts (numbers too); a truncated one is no id. */
        if (scalar_text(v, &b) && !cs_strlcpy(id, buf_cstr(&b), CMD_ID_MAX + 1))
            id[0] = '\0';
        buf_free(&b);
        cJSON_Delete(root);
    }
    if (!cmd_id_valid(id))
        id[0] = '\0';
}

void cmd_to_json(const struct cmd *c, struct buf *out)
{
    struct jw w;
    jw_init(&w, out);
    jw_obj(&w);
    if (c->id[0])
        jw_kstr(&w, "id", c->id);
    jw_kstr(&w, "cmd", c->def->name);
    if (c->select)
        jw_kstr(&w, "select", c->select);
    for (int i = 0; i < c->npos; i++)
        jw_kstr(&w, c->def->pos[i], c->pos[i]);
    if (c->args.n) {
        jw_key(&w, "args");
        jw_obj(&w);
        for (size_t i = 0; i < c->args.n; i++)
            jw_kstr(&w, c->args.v[i].key, c->args.v[i].val);
        jw_end(&w);
    }
    if (c->ts_ms)
        jw_kint(&w, "ts", c->ts_ms);
    if (c->at_ms)
        jw_kint(&w, "at", c->at_ms);
    if (c->in_ms) {
        char d[32];
        snprintf(d, sizeof(d), "%lldms", (long long)c->in_ms);
        jw_kstr(&w, "in", d);
    }
    if (c->every_ms) {
        char d[32];
        snprintf(d, sizeof(d), "%lldms", (long long)c->every_ms);
        jw_kstr(&w, "every", d);
    }
    if (c->count)
        jw_kint(&w, "count", c->count);
    if (c->log_id[0])
        jw_kstr(&w, "log", c->log_id);
    jw_end(&w);
}

uint64_t cmd_seed(const struct cmd *c)
{
    struct cmd copy = *c;
    struct buf b = BUF_INIT;
    copy.log_id[0] = '\0'; /* a command read back from {ns}:cmdlog is the same command */
    cmd_to_json(&copy, &b);
    uint64_t h = cs_hash64(b.s, b.len);
    buf_free(&b);
    return h;
}

/* ---- back to the line form ------------------------------------------------------------- */

/* One word of the line form, quoted ("...", with \\ and \" escaped) when it is empty or holds
 * blanks, control characters, quotes or backslashes, or an '=' where that would make it a
 * key=value argument. */
static void put_word(struct buf *b, const char *w, bool eq_is_special)
{
    bool quote = !*w;
    for (const char *p = w; *p && !quote; p++)
        quote = (unsigned char)*p <= ' ' || *p == '"' || *p == '\'' || *p == '\\' ||
                (eq_is_special && *p == '=');
    if (!quote) {
        buf_puts(b, w);
        return;
    }
    buf_putc(b, '"');
    for (; *w; w++) {
        if (*w == '"' || *w == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *w);
    }
    buf_putc(b, '"');
}

void cmd_quote_arg(struct buf *b, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq && eq != arg) { /* key="value with spaces": the key stays a key */
        buf_append(b, arg, (size_t)(eq - arg + 1));
        put_word(b, eq + 1, false);
    } else {
        put_word(b, arg, false);
    }
}

static void put_kv(struct buf *b, const char *k, const char *v)
{
    buf_printf(b, " %s=", k);
    put_word(b, v, false);
}

void cmd_to_line(const struct cmd *c, bool with_id, struct buf *out)
{
    char d[32];
    if (with_id && c->id[0])
        buf_printf(out, "@%s ", c->id);
    buf_puts(out, c->def->name);
    if (c->select) {
        buf_putc(out, ' ');
        put_word(out, c->select, true);
    }
    for (int i = 0; i < c->npos; i++) {
        buf_putc(out, ' ');
        put_word(out, c->pos[i], true);
    }
    for (size_t i = 0; i < c->args.n; i++)
        put_kv(out, c->args.v[i].key, c->args.v[i].val);
    if (c->at_ms) {
        snprintf(d, sizeof(d), "%lld", (long long)c->at_ms);
        put_kv(out, "at", d);
    }
    if (c->in_ms) {
        snprintf(d, sizeof(d), "%lldms", (long long)c->in_ms);
        put_kv(out, "in", d);
    }
    if (c->every_ms) {
        snprintf(d, sizeof(d), "%lldms", (long long)c->every_ms);
        put_kv(out, "every", d);
    }
    if (c->count) {
        snprintf(d, sizeof(d), "%lld", (long long)c->count);
        put_kv(out, "count", d);
    }
}

static void doc_keys(struct buf *out, const struct cmd_key *keys)
{
    for (; keys && keys->name; keys++)
        buf_printf(out, "  - `%s`: %s\n", keys->name, keys->help);
}

void cmd_doc_markdown(struct buf *out)
{
    buf_puts(out, "<!-- Generated by `swarm-cli docs commands` from the command table in "
                  "common/src/cmd.c. Do not edit. -->\n");
    buf_puts(out, "# Commands\n\n");
    buf_puts(out,
             "Commands go to the Redis channel `{ns}:cmd` (every worker) or `{ns}:cmd:{worker}` "
             "(one worker), in either of two equivalent forms:\n\n"
             "```\n"
             "PUBLISH swarm:cmd \"@c1 trigger CP-000042 StatusNotification status=Faulted "
             "errorCode=GroundFailure\"\n"
             "PUBLISH swarm:cmd '{\"id\":\"c1\",\"cmd\":\"trigger\",\"select\":\"CP-000042\","
             "\"msg\":\"StatusNotification\",\"args\":{\"status\":\"Faulted\","
             "\"errorCode\":\"GroundFailure\"}}'\n"
             "```\n\n"
             "Line form: `[@id] VERB [SELECTOR] [POSITIONAL...] [key=value...]`. Values may be "
             "quoted with `\"...\"` (backslash escapes `\\\"` and `\\\\`) or `'...'`. "
             "The JSON form names the positional arguments as fields (`\"msg\"`, `\"status\"`, "
             "`\"key\"`), the selector as `\"select\"` and key=value arguments in `\"args\"`.\n\n");
    buf_printf(out,
               "A command is at most %d bytes; larger payloads are refused with an error "
               "reply.\n\n",
               CMD_MAX_LEN);
    buf_puts(out, "## Verbs\n\n| verb | usage | what it does |\n|---|---|---|\n");
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "| `%s` | `%s` | %s%s |\n", t[i].name, t[i].usage, t[i].summary,
                   (t[i].flags & CMD_F_INTERNAL) ? " *(internal: sent by the coordinator)*" : "");
    buf_puts(out, "\n");
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "### %s\n\n`%s`\n\n%s\n\n", t[i].name, t[i].usage, t[i].summary);
        if (t[i].keys && t[i].keys->name) {
            buf_puts(out, "Arguments:\n\n");
            doc_keys(out, t[i].keys);
            buf_puts(out, "\n");
        }
        buf_printf(out, "```\nredis-cli PUBLISH swarm:cmd '%s'\n```\n\n", t[i].example);
    }
    buf_puts(out, "Every verb also accepts:\n\n");
    doc_keys(out, common_keys);
    buf_puts(out,
             "\n## Selectors\n\n"
             "| form | matches |\n|---|---|\n"
             "| `*` | every charger |\n"
             "| `CP-000042` | one charger by ID |\n"
             "| `CP-000001..CP-005000` | an ID range (by fleet index when both ends follow "
             "`id_format`, else by text) |\n"
             "| `CP-00004?`, `CP-01*`, `CP-0000[1-3]?` | shell-style globs on the ID |\n"
             "| `worker:NAME` | every charger held by a worker (NAME may be a glob: "
             "`worker:host-a.*`) |\n"
             "| `where:KEY=VALUE` | chargers whose config KEY (a charger key of "
             "[config.md](config.md)) has VALUE (a glob: `where:firmware=2.*`); in a command the "
             "effective config, in a config layer's selector the config without layers |\n"
             "| `random:N`, `random:P%`, `random:N:seed=S` | N chargers of the fleet exactly, or "
             "each charger with probability P% |\n"
             "| `A,B,C` | the union of the elements |\n\n"
             "IDs use the characters `[A-Za-z0-9_.-]`; anything else in a selector is an error, as "
             "is a range with more than one `..`.\n\n"
             "`random:` picks the same chargers on every worker without them talking to each "
             "other. Its seed: `:seed=S` when given; else, in a command, the fleet's `seed` "
             "([config.md](config.md)) when it is not 0, and otherwise one drawn from the command "
             "itself (its id, `ts` and text), so each command gets a new sample (a plain "
             "`redis-cli PUBLISH` of the same text without `@id` picks the same one again); in "
             "a config layer, the layer's name, so the layer keeps its sample. `random:N` takes "
             "the first N of a keyed permutation of the fleet's indexes: it picks again when the "
             "fleet size changes. `random:P%` decides for each index on its own: a charger stays "
             "in or out when the fleet grows or shrinks. Either costs the same whatever the fleet "
             "size.\n\n"
             "## Replies\n\n"
             "Every live worker answers each command on `{ns}:reply` with one JSON object, "
             "`matched` = 0 when it holds none of the selected chargers:\n\n"
             "```json\n"
             "{\"id\":\"c1\",\"worker\":\"host-a.w0\",\"cmd\":\"trigger\",\"matched\":5,"
             "\"done\":5,\"skipped\":0,\"failed\":0,\"errors\":[],\"ms\":0.41,\"lag_ms\":2}\n"
             "```\n\n"
             "- `id`: the command id (`@id` or `\"id\"`); `null` when the sender gave none.\n"
             "- `matched`: chargers of this worker the selector matched, `matched` = `done` + "
             "`skipped` + `failed`: `done` the action completed, `skipped` the charger had "
             "nothing to do (`clear` with nothing Faulted, `online` when online, `stop` without "
             "a transaction; not an error), `failed` a real error.\n"
             "- `errors`: at most 10 example messages naming what went wrong (the count is "
             "`failed`); a worker that refuses the command as a whole (a bad argument) has "
             "`failed` 0 and says why here.\n"
             "- `ping` answers with `matched` = `done` = the chargers the worker holds and "
             "`connected`: those connected now.\n"
             "- `ms`: time the worker spent; `lag_ms`: from the command's `ts` to the worker "
             "applying it (only when `ts` was given).\n"
             "- a scheduled command (`at=`, `in=`, `every=`) is answered at once with "
             "`\"scheduled\"` (the first run's time) and again after each run with `\"run\"`: "
             "its number.\n\n"
             "A command that does not parse gets one error reply per worker naming the problem "
             "(`\"errors\":[\"trigger: missing msg; usage: ...\"]`) and changes nothing.\n\n"
             "swarm-cli prints one line over all replies (`clear: 1000 chargers on 2 workers, "
             "3 done, 997 skipped (nothing to do), 0 errors, 12 ms`) and exits 1 when a worker "
             "reported errors, a live worker did not answer in time, or the command matched "
             "nothing (a selector no charger fits, `cancel` of an id nothing is scheduled "
             "under); it then names the fleet's size and IDs, or, for an empty fleet, how to "
             "size it.\n\n"
             "`redis-cli PUBLISH` is fire-and-forget (Redis pub/sub is at-most-once: a worker "
             "that is disconnected at that moment misses it); the replies show who acted.\n\n"
             "## Examples with redis-cli\n\n"
             "```\n"
             "redis-cli SUBSCRIBE swarm:reply                       # watch the answers\n"
             "redis-cli PUBLISH swarm:cmd 'trigger * Heartbeat'\n"
             "redis-cli PUBLISH swarm:cmd 'status CP-000007 Faulted errorCode=GroundFailure'\n"
             "redis-cli PUBLISH swarm:cmd 'trigger CP-00001? MeterValues connector=1'\n"
             "redis-cli PUBLISH swarm:cmd '@my-1 ping'\n"
             "```\n");
}
