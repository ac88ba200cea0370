/* fake-csms: a minimal stand-in for the platform under test. It subscribes to the chargers'
 * uplink topics, answers every OCPP 1.6 CALL it sees with a schema-correct CALLRESULT (or a
 * CALLERROR for actions it does not know) on the charger's downlink topic, and can log every
 * message as one JSON line.
 *
 *   fake-csms [--broker URI] [--up TEMPLATE] [--down TEMPLATE] [--profile ocpp16j|json|auto]
 *             [--boot-status S] [--interval N] [--first-tx N] [--reject-tags LIST]
 *             [--silent LIST] [--delay-ms N] [--action-delay A=MS,...]
 *             [--action-error A=RATE[:CODE],...] [--seed N] [--log FILE] [--verbose]
 *
 * Threads: paho's receive thread runs on_message (decodes, decides the answer, queues it);
 * the main thread publishes queued answers when they are due, reconnects, prints the
 * summary; a signal thread turns SIGINT/SIGTERM into `stop`. Shared state is in `g`, under
 * g.lock. Options (`o`) are read-only once parsed. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <MQTTClient.h>
#include <cjson/cJSON.h>

#include "cs/astats.h"
#include "cs/buf.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

#define PROG "fake-csms"
#define TEMPLATE_MAX 1024
#define RECONNECT_MAX_MS 10000
#define STAT_ROWS 48
#define RULES_MAX 64 /* actions with their own delay or error rate */

/* ---- options ------------------------------------------------------------------------------ */

enum profile_opt { PO_OCPP16J, PO_JSON, PO_AUTO };

struct strlist {
    char **v;
    size_t n;
};

/* How one action is answered (--action-delay, --action-error). */
struct rule {
    char action[64];
    int64_t delay_ms; /* -1: --delay-ms */
    double err_rate;  /* share of its CALLs answered with a CALLERROR */
    const char *err_code;
};

static struct opts {
    const char *broker;
    const char *up;
    const char *down;
    const char *log_path;
    const char *client_id;
    const char *boot_status;
    int64_t interval;
    int64_t first_tx;
    int64_t delay_ms;
    int qos;
    enum profile_opt profile;
    struct strlist silent;
    struct strlist reject;
    struct rule rules[RULES_MAX];
    size_t nrules;
    uint64_t seed;
    bool seeded;
    bool verbose;
} o;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [options]\n"
            "A minimal CSMS for trying chargers: answers their OCPP 1.6 CALLs over MQTT.\n"
            "\n"
            "  --broker URI          MQTT broker (default tcp://127.0.0.1:1883)\n"
            "  --up TEMPLATE         topic the chargers publish on (default "
            "chargers/{id}/up/{msg});\n"
            "                        placeholders {id} {index} {worker} {msg} become '+'\n"
            "  --down TEMPLATE       topic of the answers (default chargers/{id}/down); its\n"
            "                        placeholders come from the uplink topic ({msg} is empty)\n"
            "  --profile P           ocpp16j (default): [2,\"uid\",\"Action\",{...}] frames;\n"
            "                        json: {\"id\",\"ts\",\"type\",\"data\"} envelopes;\n"
            "                        auto: answer each message in the shape it came in\n"
            "  --boot-status S       BootNotification status: Accepted (default), Pending, "
            "Rejected\n"
            "  --interval N          BootNotification interval in seconds (default 300)\n"
            "  --first-tx N          first transactionId handed out (default 1000)\n"
            "  --reject-tags LIST    comma-separated idTags answered Invalid (Authorize,\n"
            "                        StartTransaction; compared case-insensitively)\n"
            "  --silent LIST         comma-separated actions left unanswered (to test timeouts)\n"
            "  --delay-ms N          wait N ms before each answer (default 0)\n"
            "  --action-delay LIST   per action: ACTION=MS,... answers that action after MS ms\n"
            "                        instead of --delay-ms (repeatable)\n"
            "  --action-error LIST   per action: ACTION=RATE[:CODE],... answers that share of\n"
            "                        its CALLs (0..1, or a percentage: 10%%) with a CALLERROR\n"
            "                        CODE (an OCPP-J code, default InternalError) (repeatable)\n"
            "  --seed N              seed of the --action-error draws (default: a new one)\n"
            "  --qos N               QoS of the subscription and the answers (default 1)\n"
            "  --client-id ID        MQTT client id (default fake-csms-<pid>)\n"
            "  --log FILE            append one JSON line per message seen or sent:\n"
            "                        {\"t\",\"dir\":\"in\"|\"out\",\"topic\",\"charger\","
            "\"frame\"}\n"
            "  -v, --verbose         without --log: a summary per second on stderr\n"
            "  -h, --help            this text\n"
            "  -V, --version         print the version\n"
            "\n"
            "Runs until SIGINT or SIGTERM. Exit status: 0 after a signal, 1 on a runtime error,\n"
            "2 on bad arguments, 3 when the broker cannot be reached or refuses the "
            "subscription.\n");
}

static void strlist_add_csv(struct strlist *l, const char *csv)
{
    const char *p = csv;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *a = p, *b = p + len;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            l->v = cs_realloc(l->v, (l->n + 1) * sizeof(*l->v));
            l->v[l->n++] = cs_strndup(a, (size_t)(b - a));
        }
        if (!end)
            break;
        p = end + 1;
    }
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        cs_free(l->v[i]);
    cs_free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool strlist_has(const struct strlist *l, const char *s, bool nocase)
{
    for (size_t i = 0; i < l->n; i++)
        if (nocase ? strcasecmp(l->v[i], s) == 0 : strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static const struct rule *rule_of(const char *action)
{
    for (size_t i = 0; i < o.nrules; i++)
        if (strcmp(o.rules[i].action, action) == 0)
            return &o.rules[i];
    return NULL;
}

/* ---- topic templates ------------------------------------------------------------------------
 * A template is split into MQTT levels; a level holding a placeholder becomes '+' in the
 * subscription filter, and a received topic is matched level by level, each placeholder
 * taking the text between the literal parts around it. */

enum var { V_ID, V_INDEX, V_WORKER, V_MSG, V__COUNT };
static const char *const var_names[V__COUNT] = {"id", "index", "worker", "msg"};

struct tmpl {
    char **levels;
    size_t nlevels;
    bool has[V__COUNT]; /* placeholders used */
};

/* Captured placeholder values: offsets into the topic being matched. */
struct vals {
    bool set[V__COUNT];
    const char *p[V__COUNT];
    size_t n[V__COUNT];
};

static int var_lookup(const char *name, size_t len)
{
    for (int i = 0; i < V__COUNT; i++)
        if (strlen(var_names[i]) == len && memcmp(var_names[i], name, len) == 0)
            return i;
    return -1;
}

static void tmpl_free(struct tmpl *t)
{
    for (size_t i = 0; i < t->nlevels; i++)
        cs_free(t->levels[i]);
    cs_free(t->levels);
    memset(t, 0, sizeof(*t));
}

/* Parses and checks a template: placeholders known, braces closed, no MQTT wildcards. */
static bool tmpl_parse(const char *what, const char *src, struct tmpl *t)
{
    memset(t, 0, sizeof(*t));
    size_t len = strlen(src);
    if (len == 0 || len > TEMPLATE_MAX) {
        fprintf(stderr, PROG ": --%s: the template must have 1 to %d characters\n", what,
                TEMPLATE_MAX);
        return false;
    }
    if (strpbrk(src, "+#")) {
        fprintf(stderr, PROG ": --%s: '%s' contains an MQTT wildcard ('+' or '#')\n", what, src);
        return false;
    }
    for (const char *p = src; *p;) {
        const char *open = strchr(p, '{');
        if (!open)
            break;
        const char *close = strchr(open, '}');
        if (!close) {
            fprintf(stderr, PROG ": --%s: unterminated '{' in '%s'\n", what, src);
            return false;
        }
        int v = var_lookup(open + 1, (size_t)(close - open - 1));
        if (v < 0 || memchr(open + 1, '/', (size_t)(close - open - 1))) {
            fprintf(stderr,
                    PROG ": --%s: unknown placeholder '%.*s' in '%s' (known: {id} {index} "
                         "{worker} {msg})\n",
                    what, (int)(close - open + 1), open, src);
            return false;
        }
        t->has[v] = true;
        p = close + 1;
    }
    const char *p = src;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        t->levels = cs_realloc(t->levels, (t->nlevels + 1) * sizeof(*t->levels));
        t->levels[t->nlevels++] = cs_strndup(p, n);
        if (!slash)
            break;
        p = slash + 1;
    }
    return true;
}

static void tmpl_filter(const struct tmpl *t, struct buf *out)
{
    for (size_t i = 0; i < t->nlevels; i++) {
        if (i)
            buf_putc(out, '/');
        buf_puts(out, strchr(t->levels[i], '{') ? "+" : t->levels[i]);
    }
}

/* Matches one topic level s[0..n) against a template level; placeholders may be empty and
 * a placeholder seen before must repeat its value. */
static bool match_level(const char *pat, const char *s, size_t n, struct vals *v)
{
    while (*pat && *pat != '{') {
        if (n == 0 || *pat != *s)
            return false;
        pat++, s++, n--;
    }
    if (!*pat)
        return n == 0;
    const char *close = strchr(pat, '}'); /* checked by tmpl_parse */
    int k = var_lookup(pat + 1, (size_t)(close - pat - 1));
    if (v->set[k]) {
        if (v->n[k] > n || memcmp(v->p[k], s, v->n[k]) != 0)
            return false;
        return match_level(close + 1, s + v->n[k], n - v->n[k], v);
    }
    for (size_t take = 0; take <= n; take++) {
        v->set[k] = true;
        v->p[k] = s;
        v->n[k] = take;
        if (match_level(close + 1, s + take, n - take, v))
            return true;
    }
    v->set[k] = false;
    return false;
}

static bool tmpl_match(const struct tmpl *t, const char *topic, struct vals *v)
{
    memset(v, 0, sizeof(*v));
    const char *p = topic;
    for (size_t i = 0; i < t->nlevels; i++) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if ((i + 1 < t->nlevels) != (slash != NULL))
            return false; /* more or fewer levels than the template */
        if (!match_level(t->levels[i], p, n, v))
            return false;
        p = slash ? slash + 1 : p + n;
    }
    return true;
}

/* Renders the downlink template with the values captured from the uplink topic ({msg} is
 * empty, as the chargers render their topic_down). */
static void tmpl_render_vals(const struct tmpl *t, const struct vals *v, struct buf *out)
{
    for (size_t i = 0; i < t->nlevels; i++) {
        if (i)
            buf_putc(out, '/');
        const char *p = t->levels[i];
        while (*p) {
            const char *open = strchr(p, '{');
            if (!open) {
                buf_puts(out, p);
                break;
            }
            buf_append(out, p, (size_t)(open - p));
            const char *close = strchr(open, '}');
            int k = var_lookup(open + 1, (size_t)(close - open - 1));
            if (k != V_MSG && v->set[k])
                buf_append(out, v->p[k], v->n[k]);
            p = close + 1;
        }
    }
}

/* Whether a topic matches a filter made of literal levels and '+'. */
static bool filter_matches(const char *filter, const char *topic)
{
    for (;;) {
        const char *fs = strchr(filter, '/'), *ts = strchr(topic, '/');
        size_t fl = fs ? (size_t)(fs - filter) : strlen(filter);
        size_t tl = ts ? (size_t)(ts - topic) : strlen(topic);
        if (!(fl == 1 && filter[0] == '+') && (fl != tl || memcmp(filter, topic, fl) != 0))
            return false;
        if (!fs || !ts)
            return !fs && !ts;
        filter = fs + 1;
        topic = ts + 1;
    }
}

static struct tmpl up_t, down_t;

/* ---- shared state ------------------------------------------------------------------------- */

enum reply {
    R_BOOT,
    R_HEARTBEAT,
    R_AUTHORIZE,
    R_START_TX,
    R_STOP_TX,
    R_EMPTY,
    R_DATA_TRANSFER,
    R_ERROR,
};

static const struct {
    const char *action;
    enum reply r;
} replies[] = {
    {"BootNotification", R_BOOT},
    {"Heartbeat", R_HEARTBEAT},
    {"Authorize", R_AUTHORIZE},
    {"StartTransaction", R_START_TX},
    {"StopTransaction", R_STOP_TX},
    {"StatusNotification", R_EMPTY},
    {"MeterValues", R_EMPTY},
    {"FirmwareStatusNotification", R_EMPTY},
    {"DiagnosticsStatusNotification", R_EMPTY},
    {"DataTransfer", R_DATA_TRANSFER},
};

/* An answer decided on arrival, serialised when it is due (so currentTime is the time it
 * goes out). */
struct answer {
    struct answer *next;
    int64_t due_ms; /* monotonic */
    enum ocpp_profile profile;
    enum reply r;
    char *topic;
    char *charger; /* NULL when the uplink template has no {id} */
    char uid[OCPP_UID_MAX + 1];
    char action[64];
    const char *tag_status; /* R_AUTHORIZE, R_START_TX */
    int32_t tx_id;          /* R_START_TX */
    const char *err_code;   /* R_ERROR */
    char err_desc[128];
};

struct stat_row {
    char name[64];
    unsigned in, out;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* queue grew, connection lost, or stop */
    struct answer *head, *tail;
    unsigned queued;
    bool stop;
    int signo;
    bool connected;
    int64_t next_tx;
    struct cs_rng rng; /* --action-error draws */
    FILE *log;
    /* summary of the current second */
    struct stat_row rows[STAT_ROWS];
    int nrows;
    unsigned in_total, out_total, dropped;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static MQTTClient client;

/* [locked] */
static void stat_count(const char *name, bool in)
{
    struct stat_row *row = NULL;
    if (in)
        g.in_total++;
    else
        g.out_total++;
    for (int i = 0; i < g.nrows && !row; i++)
        if (strcmp(g.rows[i].name, name) == 0)
            row = &g.rows[i];
    if (!row && g.nrows < STAT_ROWS - 1) {
        row = &g.rows[g.nrows++];
        memset(row, 0, sizeof(*row));
        cs_strlcpy(row->name, name, sizeof(row->name));
    }
    if (!row) { /* the last row collects the rest */
        row = &g.rows[STAT_ROWS - 1];
        if (g.nrows < STAT_ROWS) {
            g.nrows = STAT_ROWS;
            memset(row, 0, sizeof(*row));
            cs_strlcpy(row->name, "(other)", sizeof(row->name));
        }
    }
    if (in)
        row->in++;
    else
        row->out++;
}

/* ---- the JSON log ------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Appends s with every byte that is not part of valid UTF-8 replaced by U+FFFD: such bytes
 * can only sit inside JSON strings, so the line stays valid JSON. */
static void append_utf8_clean(struct buf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        size_t l = utf8_seq(u + i, n - i);
        if (l) {
            i += l;
            run += l;
            continue;
        }
        buf_append(out, s + i - run, run);
        run = 0;
        buf_puts(out, "\xef\xbf\xbd");
        i++;
    }
    buf_append(out, s + n - run, run);
}

/* {"t":...,"dir":...,"topic":...,"charger":...,"frame":...}: the frame as the JSON it is,
 * or as a string when it does not parse. Writes and flushes one line. */
static void log_line(bool in, const char *topic, const char *charger, const char *frame, size_t len,
                     bool frame_is_json)
{
    if (!g.log)
        return; /* set before the client exists, never changed after: no lock needed */
    struct buf line = BUF_INIT, clean = BUF_INIT;
    struct jw j;
    jw_init(&j, &line);
    jw_obj(&j);
    jw_kint(&j, "t", cs_now_ms());
    jw_kstr(&j, "dir", in ? "in" : "out");
    jw_kstr(&j, "topic", topic);
    jw_key(&j, "charger");
    if (charger)
        jw_str(&j, charger);
    else
        jw_null(&j);
    jw_key(&j, "frame");
    if (frame_is_json) {
        jw_raw(&j, frame, len);
    } else {
        const char *end = NULL;
        cJSON *root = cJSON_ParseWithLengthOpts(frame, len, &end, false);
        size_t used = root && end >= frame && end <= frame + len ? (size_t)(end - frame) : 0;
        while (used < len && frame[used] && strchr(" \t\r\n", frame[used]))
            used++;
        char *txt = root && used == len ? cJSON_PrintUnformatted(root) : NULL;
        if (txt)
            jw_raw(&j, txt, strlen(txt));
        else
            jw_strn(&j, frame, len);
        cJSON_free(txt);
        cJSON_Delete(root);
    }
    jw_end(&j);
    append_utf8_clean(&clean, line.s, line.len);
    buf_putc(&clean, '\n');
    pthread_mutex_lock(&g.lock);
    if (fwrite(clean.s, 1, clean.len, g.log) != clean.len || fflush(g.log) != 0) {
        static bool warned;
        if (!warned)
            fprintf(stderr, PROG ": writing %s: %s\n", o.log_path, strerror(errno));
        warned = true;
    }
    pthread_mutex_unlock(&g.lock);
    buf_free(&line);
    buf_free(&clean);
}

/* ---- receiving ---------------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum ocpp_profile frame_profile(const char *p, size_t n)
{
    if (o.profile == PO_JSON)
        return PROFILE_JSON;
    if (o.profile == PO_OCPP16J)
        return PROFILE_OCPP16J;
    for (size_t i = 0; i < n; i++)
        if (!p[i] || !strchr(" \t\r\n", p[i]))
            return p[i] == '{' ? PROFILE_JSON : PROFILE_OCPP16J;
    return PROFILE_OCPP16J;
}

static const char *tag_status(const cJSON *payload)
{
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(payload, "idTag");
    if (cJSON_IsString(tag) && strlist_has(&o.reject, tag->valuestring, true))
        return "Invalid";
    return "Accepted";
}

/* For a json-profile message that did not decode: whether it still names a CALL (a "type"
 * that is neither "Error" nor "...Response"), so that it deserves a FormationViolation. */
static bool json_names_call(const char *p, size_t n)
{
    cJSON *root = cJSON_ParseWithLength(p, n);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(t))
        t = cJSON_GetObjectItemCaseSensitive(root, "method");
    bool call = false;
    if (cJSON_IsString(t)) {
        size_t tl = strlen(t->valuestring);
        call = tl > 0 && strcmp(t->valuestring, "Error") != 0 &&
               !(tl > 8 && strcmp(t->valuestring + tl - 8, "Response") == 0);
    }
    cJSON_Delete(root);
    return call;
}

/* [locked] Queues a for the main thread, in the order answers fall due (the tail at once when
 * every action has the same delay). */
static void enqueue(struct answer *a, int64_t delay_ms)
{
    a->due_ms = mono_ms() + delay_ms;
    if (!g.tail || g.tail->due_ms <= a->due_ms) {
        if (g.tail)
            g.tail->next = a;
        else
            g.head = a;
        g.tail = a;
    } else {
        struct answer **pp = &g.head;
        while ((*pp)->due_ms <= a->due_ms)
            pp = &(*pp)->next;
        a->next = *pp;
        *pp = a;
    }
    g.queued++;
    pthread_cond_signal(&g.cond);
}

/* Decodes one uplink message and, for a CALL, decides its answer. */
static void handle(const char *topic, const char *payload, size_t len)
{
    struct vals v;
    bool matched = tmpl_match(&up_t, topic, &v);
    char *charger = matched && v.set[V_ID] ? cs_strndup(v.p[V_ID], v.n[V_ID]) : NULL;
    log_line(true, topic, charger, payload, len, false);

    enum ocpp_profile prof = frame_profile(payload, len);
    struct ocpp_frame f;
    struct cs_error err;
    const char *code = NULL;
    int rc = ocpp_decode(prof, payload, len, &f, &code, &err);
    if (rc != CS_OK && prof == PROFILE_JSON && f.uid[0] && json_names_call(payload, len))
        f.type = OCPP_CALL; /* the decoder stops before it sets the type */
    struct answer *a = NULL;
    const char *stat = "(invalid)";
    if (rc == CS_OK && f.type != OCPP_CALL) {
        stat = f.type == OCPP_RESULT ? "(CALLRESULT)" : "(CALLERROR)";
    } else if (f.type == OCPP_CALL && f.uid[0]) {
        /* A CALL, or a malformed one whose id could be read (FormationViolation). */
        stat = rc == CS_OK ? f.action : "(invalid CALL)";
        if (matched && !(rc == CS_OK && strlist_has(&o.silent, f.action, false))) {
            a = cs_calloc(1, sizeof(*a));
            a->profile = prof;
            cs_strlcpy(a->uid, f.uid, sizeof(a->uid));
            cs_strlcpy(a->action, rc == CS_OK ? f.action : "", sizeof(a->action));
            a->r = R_ERROR;
            if (rc != CS_OK) {
                a->err_code = code ? code : OCPP_E_FORMATION;
                cs_strlcpy(a->err_desc, err.msg, sizeof(a->err_desc));
            } else {
                a->err_code = OCPP_E_NOT_IMPLEMENTED;
                cs_strlcpy(a->err_desc, "unknown action", sizeof(a->err_desc));
                for (size_t i = 0; i < ARRAY_SIZE(replies); i++)
                    if (strcmp(replies[i].action, f.action) == 0)
                        a->r = replies[i].r;
                if (a->r == R_AUTHORIZE || a->r == R_START_TX)
                    a->tag_status = tag_status(f.payload);
            }
            struct buf t = BUF_INIT;
            tmpl_render_vals(&down_t, &v, &t);
            a->topic = buf_detach(&t);
            a->charger = charger ? cs_strdup(charger) : NULL;
        }
    }

    pthread_mutex_lock(&g.lock);
    stat_count(stat, true);
    if (a) {
        const struct rule *rule = a->action[0] ? rule_of(a->action) : NULL;
        if (rule && rule->err_rate > 0 && a->r != R_ERROR &&
            cs_rng_double(&g.rng) < rule->err_rate) {
            a->r = R_ERROR;
            a->err_code = rule->err_code;
            cs_strlcpy(a->err_desc, "injected by --action-error", sizeof(a->err_desc));
        }
        if (a->r == R_START_TX) {
            a->tx_id = (int32_t)g.next_tx;
            g.next_tx = g.next_tx >= INT32_MAX ? o.first_tx : g.next_tx + 1;
        }
        enqueue(a, rule && rule->delay_ms >= 0 ? rule->delay_ms : o.delay_ms);
    }
    pthread_mutex_unlock(&g.lock);
    ocpp_frame_free(&f);
    cs_free(charger);
}

/* [paho thread] */
static int on_message(void *ctx, char *topic, int tlen, MQTTClient_message *m)
{
    (void)ctx;
    /* topicLen is 0 when the topic is NUL-terminated; MQTT topics hold no NUL anyway. */
    char *t = tlen > 0 ? cs_strndup(topic, (size_t)tlen) : cs_strdup(topic);
    handle(t, m->payload ? m->payload : "", m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
    cs_free(t);
    MQTTClient_freeMessage(&m);
    MQTTClient_free(topic);
    return 1;
}

/* [paho thread] */
static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, PROG ": connection to %s lost%s%s; reconnecting\n", o.broker, cause ? ": " : "",
            cause ? cause : "");
    pthread_mutex_lock(&g.lock);
    g.connected = false;
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.lock);
}

/* ---- sending ------------------------------------------------------------------------------ */

static void build_payload(const struct answer *a, int64_t now, struct buf *out)
{
    char ts[32];
    struct jw j;
    jw_init(&j, out);
    jw_obj(&j);
    switch (a->r) {
    case R_BOOT:
        jw_kstr(&j, "status", o.boot_status);
        jw_kstr(&j, "currentTime", cs_fmt_iso8601(ts, sizeof(ts), now));
        jw_kint(&j, "interval", o.interval);
        break;
    case R_HEARTBEAT:
        jw_kstr(&j, "currentTime", cs_fmt_iso8601(ts, sizeof(ts), now));
        break;
    case R_START_TX:
        jw_kint(&j, "transactionId", a->tx_id); /* fall through */
    case R_AUTHORIZE:
        jw_key(&j, "idTagInfo");
        jw_obj(&j);
        jw_kstr(&j, "status", a->tag_status);
        jw_end(&j);
        break;
    case R_STOP_TX:
        jw_key(&j, "idTagInfo");
        jw_obj(&j);
        jw_kstr(&j, "status", "Accepted");
        jw_end(&j);
        break;
    case R_DATA_TRANSFER:
        jw_kstr(&j, "status", "Accepted");
        break;
    case R_EMPTY:
    case R_ERROR:
        break;
    }
    jw_end(&j);
}

static void answer_free(struct answer *a)
{
    cs_free(a->topic);
    cs_free(a->charger);
    cs_free(a);
}

static void send_answer(struct answer *a)
{
    struct buf frame = BUF_INIT;
    int64_t now = cs_now_ms();
    if (a->r == R_ERROR) {
        ocpp_encode_error(a->profile, a->uid, a->err_code, a->err_desc, now, &frame);
    } else {
        struct buf payload = BUF_INIT;
        build_payload(a, now, &payload);
        ocpp_encode_result(a->profile, a->uid, a->action, now, payload.s, payload.len, &frame);
        buf_free(&payload);
    }
    MQTTClient_message m = MQTTClient_message_initializer;
    m.payload = frame.s;
    m.payloadlen = (int)frame.len;
    m.qos = o.qos;
    /* Logged before it leaves: the charger's next CALL, which this answer lets go, may arrive
     * (and be logged by paho's thread) before publishMessage returns, and the log must show
     * the answer first. */
    log_line(false, a->topic, a->charger, frame.s, frame.len, true);
    int rc = MQTTClient_publishMessage(client, a->topic, &m, NULL);
    if (rc != MQTTCLIENT_SUCCESS)
        fprintf(stderr, PROG ": answer to %s %s on %s not sent (paho error %d)\n",
                a->action[0] ? a->action : "CALL", a->uid, a->topic, rc);
    pthread_mutex_lock(&g.lock);
    if (rc == MQTTCLIENT_SUCCESS)
        stat_count(a->r == R_ERROR ? "(CALLERROR)" : a->action, false);
    else
        g.dropped++;
    pthread_mutex_unlock(&g.lock);
    buf_free(&frame);
}

/* [locked] One line on stderr for the second that ended; nothing when it was quiet. */
static void summary(void)
{
    if (o.verbose && !o.log_path && (g.in_total || g.out_total || g.dropped)) {
        struct buf b = BUF_INIT;
        buf_printf(&b, PROG ": in %u out %u", g.in_total, g.out_total);
        if (g.dropped)
            buf_printf(&b, " dropped %u", g.dropped);
        if (g.queued)
            buf_printf(&b, " queued %u", g.queued);
        for (int i = 0; i < g.nrows; i++)
            buf_printf(&b, "%s%s %u/%u", i ? ", " : " | ", g.rows[i].name, g.rows[i].in,
                       g.rows[i].out);
        fprintf(stderr, "%s\n", b.s);
        buf_free(&b);
    }
    g.nrows = 0;
    g.in_total = g.out_total = g.dropped = 0;
}

/* ---- connection --------------------------------------------------------------------------- */

/* Connects and subscribes; prints why not on failure. */
/* Nagle's algorithm off on our TCP sockets (the broker connection: paho has no option for it).
 * With it on, an answer published right after the PUBACK of the CALL it answers waits for the
 * broker's delayed ACK, ~40 ms that would pass for the platform's latency. */
static void tcp_nodelay_all(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name), type = 0, one = 1;
        socklen_t tl = sizeof(type);
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        if (fd <= 2 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
            type != SOCK_STREAM || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0 ||
            (sa.ss_family != AF_INET && sa.ss_family != AF_INET6))
            continue;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    closedir(d);
}

static bool connect_and_subscribe(const char *filter)
{
    MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
    co.keepAliveInterval = 30;
    co.cleansession = 1;
    co.reliable = 0;
    co.connectTimeout = 5;
    co.maxInflightMessages = 256;
    int rc = MQTTClient_connect(client, &co);
    if (rc != MQTTCLIENT_SUCCESS) {
        static const char *const connack[] = {"",
                                              "unacceptable protocol version",
                                              "client id rejected",
                                              "server unavailable",
                                              "bad user name or password",
                                              "not authorised"};
        fprintf(stderr, PROG ": cannot connect to %s (%s)\n", o.broker,
                rc > 0 && rc < (int)ARRAY_SIZE(connack) ? connack[rc]
                : rc > 0                                ? "refused by the broker"
                : rc == MQTTCLIENT_FAILURE              ? "connection failed"
                                                        : MQTTClient_strerror(rc));
        return false;
    }
    tcp_nodelay_all();
    rc = MQTTClient_subscribe(client, filter, o.qos);
    if (rc != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, PROG ": subscription to %s refused at %s (%d)\n", filter, o.broker, rc);
        MQTTClient_disconnect(client, 0);
        return false;
    }
    return true;
}

static void *signal_thread(void *arg)
{
    const sigset_t *set = arg;
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    pthread_mutex_lock(&g.lock);
    g.stop = true;
    g.signo = sig;
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

static void deadline_ts(int64_t mono_deadline_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(mono_deadline_ms / 1000);
    ts->tv_nsec = (long)(mono_deadline_ms % 1000) * 1000000L;
}

/* The main thread: answers when due, reconnects after a loss, a summary per second. */
static void run(const char *filter)
{
    int64_t next_summary = mono_ms() + 1000, retry_at = 0, backoff = 500;
    pthread_mutex_lock(&g.lock);
    while (!g.stop) {
        int64_t now = mono_ms();
        if (now >= next_summary) {
            summary();
            next_summary = now + 1000;
        }
        if (!g.connected && now >= retry_at) {
            pthread_mutex_unlock(&g.lock);
            bool ok = connect_and_subscribe(filter);
            pthread_mutex_lock(&g.lock);
            if (ok) {
                fprintf(stderr, PROG ": reconnected to %s\n", o.broker);
                g.connected = true;
                backoff = 500;
            } else {
                backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
                retry_at = mono_ms() + backoff;
            }
            continue;
        }
        if (g.connected && g.head && g.head->due_ms <= now) {
            /* Answers are queued in the order they fall due: take the due prefix. */
            struct answer *batch = g.head, *last = g.head;
            unsigned n = 1;
            while (last->next && last->next->due_ms <= now)
                last = last->next, n++;
            g.head = last->next;
            if (!g.head)
                g.tail = NULL;
            last->next = NULL;
            g.queued -= n;
            pthread_mutex_unlock(&g.lock);
            while (batch) {
                struct answer *a = batch;
                batch = a->next;
                send_answer(a);
                answer_free(a);
            }
            pthread_mutex_lock(&g.lock);
            continue;
        }
        int64_t wake = next_summary;
        if (g.connected && g.head && g.head->due_ms < wake)
            wake = g.head->due_ms;
        if (!g.connected && retry_at < wake)
            wake = retry_at;
        struct timespec ts;
        deadline_ts(wake, &ts);
        pthread_cond_timedwait(&g.cond, &g.lock, &ts);
    }
    pthread_mutex_unlock(&g.lock);
}

/* ---- main --------------------------------------------------------------------------------- */

static bool parse_int(const char *name, const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (cs_parse_i64(s, min, max, out))
        return true;
    fprintf(stderr, PROG ": --%s: '%s' is not an integer in [%lld, %lld]\n", name, s,
            (long long)min, (long long)max);
    return false;
}

static struct rule *rule_for(const char *action, size_t n)
{
    for (size_t i = 0; i < o.nrules; i++)
        if (strlen(o.rules[i].action) == n && strncmp(o.rules[i].action, action, n) == 0)
            return &o.rules[i];
    if (o.nrules == RULES_MAX || n == 0 || n >= sizeof(o.rules[0].action))
        return NULL;
    struct rule *r = &o.rules[o.nrules++];
    memcpy(r->action, action, n);
    r->action[n] = '\0';
    r->delay_ms = -1;
    r->err_code = "InternalError";
    return r;
}

/* --action-delay A=MS,... or --action-error A=RATE[:CODE],... */
static bool parse_rules(const char *opt, const char *list, bool error)
{
    struct strlist items = {0};
    bool ok = true;
    strlist_add_csv(&items, list);
    if (!items.n) {
        fprintf(stderr, PROG ": --%s: empty list\n", opt);
        ok = false;
    }
    for (size_t i = 0; ok && i < items.n; i++) {
        const char *it = items.v[i], *eq = strchr(it, '=');
        struct rule *r = eq ? rule_for(it, (size_t)(eq - it)) : NULL;
        if (!r) {
            fprintf(stderr, PROG ": --%s: '%s' is not ACTION=%s (at most %d actions)\n", opt, it,
                    error ? "RATE[:CODE]" : "MS", RULES_MAX);
            ok = false;
            break;
        }
        if (!error) {
            ok = parse_int(opt, eq + 1, 0, 3600000, &r->delay_ms);
            continue;
        }
        char rate[32];
        const char *colon = strchr(eq + 1, ':');
        size_t rl = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
        double v;
        bool pct = rl > 0 && eq[rl] == '%';
        if (rl == 0 || rl >= sizeof(rate)) {
            v = -1;
        } else {
            memcpy(rate, eq + 1, rl - pct);
            rate[rl - pct] = '\0';
            if (!cs_parse_double(rate, 0, pct ? 100 : 1, &v))
                v = -1;
        }
        if (v < 0) {
            fprintf(stderr, PROG ": --%s: '%s': the rate is a number in [0, 1] or a percentage\n",
                    opt, it);
            ok = false;
            break;
        }
        r->err_rate = pct ? v / 100.0 : v;
        if (colon) {
            int code = astats_code_of(colon + 1);
            if (code == AC_OTHER) {
                fprintf(stderr,
                        PROG ": --%s: '%s' is not an OCPP-J error code (InternalError, "
                             "NotSupported, GenericError, ...)\n",
                        opt, colon + 1);
                ok = false;
                break;
            }
            r->err_code = astats_code_name(code);
        }
    }
    strlist_free(&items);
    return ok;
}

/* Parses argv into o; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv)
{
    enum {
        OPT_BROKER = 256,
        OPT_UP,
        OPT_DOWN,
        OPT_BOOT_STATUS,
        OPT_INTERVAL,
        OPT_REJECT,
        OPT_FIRST_TX,
        OPT_PROFILE,
        OPT_SILENT,
        OPT_DELAY,
        OPT_LOG,
        OPT_QOS,
        OPT_CLIENT_ID,
        OPT_ACTION_DELAY,
        OPT_ACTION_ERROR,
        OPT_SEED,
    };
    static const struct option longopts[] = {
        {"broker", required_argument, NULL, OPT_BROKER},
        {"up", required_argument, NULL, OPT_UP},
        {"down", required_argument, NULL, OPT_DOWN},
        {"boot-status", required_argument, NULL, OPT_BOOT_STATUS},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"reject-tags", required_argument, NULL, OPT_REJECT},
        {"first-tx", required_argument, NULL, OPT_FIRST_TX},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"silent", required_argument, NULL, OPT_SILENT},
        {"delay-ms", required_argument, NULL, OPT_DELAY},
        {"log", required_argument, NULL, OPT_LOG},
        {"qos", required_argument, NULL, OPT_QOS},
        {"client-id", required_argument, NULL, OPT_CLIENT_ID},
        {"action-delay", required_argument, NULL, OPT_ACTION_DELAY},
        {"action-error", required_argument, NULL, OPT_ACTION_ERROR},
        {"seed", required_argument, NULL, OPT_SEED},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const char *const boot_statuses[] = {"Accepted", "Pending", "Rejected"};
    int64_t qos = 1;
    o.broker = "tcp://127.0.0.1:1883";
    o.up = "chargers/{id}/up/{msg}";
    o.down = "chargers/{id}/down";
    o.boot_status = "Accepted";
    o.interval = 300;
    o.first_tx = 1000;
    o.profile = PO_OCPP16J;
    int opt;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_BROKER:
            o.broker = optarg;
            break;
        case OPT_UP:
            o.up = optarg;
            break;
        case OPT_DOWN:
            o.down = optarg;
            break;
        case OPT_BOOT_STATUS: {
            o.boot_status = NULL;
            for (size_t i = 0; i < ARRAY_SIZE(boot_statuses); i++)
                if (strcmp(optarg, boot_statuses[i]) == 0)
                    o.boot_status = boot_statuses[i];
            if (!o.boot_status) {
                fprintf(stderr, PROG ": --boot-status: '%s' is not Accepted, Pending or Rejected\n",
                        optarg);
                return 2;
            }
            break;
        }
        case OPT_INTERVAL:
            if (!parse_int("interval", optarg, 0, INT32_MAX, &o.interval))
                return 2;
            break;
        case OPT_FIRST_TX:
            if (!parse_int("first-tx", optarg, 0, INT32_MAX, &o.first_tx))
                return 2;
            break;
        case OPT_DELAY:
            if (!parse_int("delay-ms", optarg, 0, 3600000, &o.delay_ms))
                return 2;
            break;
        case OPT_QOS:
            if (!parse_int("qos", optarg, 0, 2, &qos))
                return 2;
            break;
        case OPT_ACTION_DELAY:
            if (!parse_rules("action-delay", optarg, false))
                return 2;
            break;
        case OPT_ACTION_ERROR:
            if (!parse_rules("action-error", optarg, true))
                return 2;
            break;
        case OPT_SEED: {
            int64_t v;
            if (!parse_int("seed", optarg, 0, INT64_MAX, &v))
                return 2;
            o.seed = (uint64_t)v;
            o.seeded = true;
            break;
        }
        case OPT_REJECT:
            strlist_add_csv(&o.reject, optarg);
            break;
        case OPT_SILENT:
            strlist_add_csv(&o.silent, optarg);
            break;
        case OPT_PROFILE:
            if (strcmp(optarg, "ocpp16j") == 0) {
                o.profile = PO_OCPP16J;
            } else if (strcmp(optarg, "json") == 0) {
                o.profile = PO_JSON;
            } else if (strcmp(optarg, "auto") == 0) {
                o.profile = PO_AUTO;
            } else {
                fprintf(stderr, PROG ": --profile: '%s' is not ocpp16j, json or auto\n", optarg);
                return 2;
            }
            break;
        case OPT_LOG:
            o.log_path = optarg;
            break;
        case OPT_CLIENT_ID:
            o.client_id = optarg;
            break;
        case 'v':
            o.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " %s\n", CS_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            return 2;
        }
    }
    o.qos = (int)qos;
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\nTry '" PROG " --help'.\n", argv[optind]);
        return 2;
    }
    if (!*o.broker) {
        fprintf(stderr, PROG ": --broker must not be empty\n");
        return 2;
    }
    if (o.client_id && (!*o.client_id || strlen(o.client_id) > 65535)) {
        fprintf(stderr, PROG ": --client-id must have 1 to 65535 characters\n");
        return 2;
    }
    if (o.log_path && !*o.log_path) {
        fprintf(stderr, PROG ": --log must name a file\n");
        return 2;
    }
    if (!tmpl_parse("up", o.up, &up_t) || !tmpl_parse("down", o.down, &down_t))
        return 2;
    for (int k = 0; k < V__COUNT; k++) {
        if (k != V_MSG && down_t.has[k] && !up_t.has[k]) {
            fprintf(stderr, PROG ": --down uses {%s}, which --up does not provide ('%s')\n",
                    var_names[k], o.up);
            return 2;
        }
    }
    return -1;
}

static void cleanup(void)
{
    while (g.head) {
        struct answer *a = g.head;
        g.head = a->next;
        answer_free(a);
    }
    g.tail = NULL;
    if (g.log)
        fclose(g.log);
    g.log = NULL;
    tmpl_free(&up_t);
    tmpl_free(&down_t);
    strlist_free(&o.silent);
    strlist_free(&o.reject);
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv);
    if (rc >= 0) {
        cleanup();
        return rc;
    }
    g.next_tx = o.first_tx;
    cs_rng_seed(&g.rng, o.seeded ? o.seed : cs_seed_entropy());
    if (o.log_path) {
        g.log = fopen(o.log_path, "a");
        if (!g.log) {
            fprintf(stderr, PROG ": cannot open %s: %s\n", o.log_path, strerror(errno));
            cleanup();
            return 1;
        }
    }

    /* The condition waits on the monotonic clock. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&g.cond);
    pthread_cond_init(&g.cond, &ca);
    pthread_condattr_destroy(&ca);

    /* SIGINT/SIGTERM reach only the signal thread: blocked here before any thread (paho's
     * included) is created, so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t sig_tid;
    if (pthread_create(&sig_tid, NULL, signal_thread, &sigs) != 0) {
        fprintf(stderr, PROG ": cannot start a thread\n");
        cleanup();
        return 1;
    }

    char cid[64];
    snprintf(cid, sizeof(cid), PROG "-%d", (int)getpid());
    rc = MQTTClient_create(&client, o.broker, o.client_id ? o.client_id : cid,
                           MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, PROG ": --broker: cannot use '%s' (%s)\n", o.broker,
                MQTTClient_strerror(rc));
        cleanup();
        return 2;
    }
    MQTTClient_setCallbacks(client, NULL, on_lost, on_message, NULL);
    struct buf filter = BUF_INIT;
    tmpl_filter(&up_t, &filter);
    if (!connect_and_subscribe(buf_cstr(&filter))) {
        MQTTClient_destroy(&client);
        buf_free(&filter);
        cleanup();
        return 3;
    }
    pthread_mutex_lock(&g.lock);
    g.connected = true;
    pthread_mutex_unlock(&g.lock);
    {
        struct vals sample = {
            .set = {true, true, true, false}, .p = {"CP-000001", "1", "w0", ""}, .n = {9, 1, 2, 0}};
        struct buf t = BUF_INIT;
        tmpl_render_vals(&down_t, &sample, &t);
        if (filter_matches(buf_cstr(&filter), buf_cstr(&t)))
            fprintf(stderr,
                    PROG ": warning: answers (%s) fall under the subscription %s: they come "
                         "back and are logged as \"in\", then ignored\n",
                    buf_cstr(&t), buf_cstr(&filter));
        buf_free(&t);
    }
    fprintf(stderr, PROG ": ready: subscribed to %s at %s, answering on %s (%s)\n",
            buf_cstr(&filter), o.broker, o.down,
            o.profile == PO_JSON   ? "json"
            : o.profile == PO_AUTO ? "auto"
                                   : "ocpp16j");

    run(buf_cstr(&filter));

    pthread_join(sig_tid, NULL);
    if (o.verbose)
        fprintf(stderr, PROG ": %s: disconnecting\n", strsignal(g.signo));
    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    buf_free(&filter);
    cleanup();
    return 0;
}
