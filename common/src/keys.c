/* keys.c - the key and channel name table. */
#include <stdio.h>
#include <string.h>

#include "cs/keys.h"
#include "cs/mem.h"

static const char *const formats[] = {
    [K_FLEET] = "%s:fleet",
    [K_CFG] = "%s:cfg",
    [K_CHARGER] = "%s:charger:%s",
    [K_STATE] = "%s:state:%s",
    [K_AGENT] = "%s:agent:%s",
    [K_AGENTS] = "%s:agents",
    [K_ASSIGN] = "%s:assign",
    [K_STATS_W] = "%s:stats:%s",
    [K_STATS] = "%s:stats",
    [K_STATS_C] = "%s:stats:charger:%s",
    [K_TS_W] = "%s:ts:%s",
    [K_TS] = "%s:ts",
    [K_COORDINATOR] = "%s:coordinator",
    [K_COORD_ID] = "%s:coordinator:id:%s",
    [K_CATALOG] = "%s:catalog",
    [K_LAYERS] = "%s:layers",
    [K_LAYER] = "%s:cfg:layer:%s",
    [K_CMDLOG] = "%s:cmdlog",
    [K_EVENTLOG] = "%s:eventlog",
    [K_TOTALS_BASE] = "%s:totals:base",
    [K_TOTALS_LAST] = "%s:totals:last:%s",
    [K_TOTALS_WORKERS] = "%s:totals:workers",
    [K_HISTORY] = "%s:history",
    [K_RUNS] = "%s:runs",
    [K_RUN] = "%s:run:%s",
    [K_RUN_BASE] = "%s:run:%s:base",
    [K_RUN_END] = "%s:run:%s:end",
    [K_RUN_HISTORY] = "%s:run:%s:history",
    [CH_CMD] = "%s:cmd",
    [CH_CMD_W] = "%s:cmd:%s",
    [CH_REPLY] = "%s:reply",
    [CH_EVENTS] = "%s:events",
    [CH_CTL] = "%s:ctl:%s",
};
_Static_assert(ARRAY_SIZE(formats) == K__COUNT, "key formats out of step with enum cs_key");

const char *cs_key(char *out, const char *ns, enum cs_key k, const char *arg)
{
    snprintf(out, CS_KEY_MAX, formats[k], ns, arg ? arg : "");
    return out;
}

const char *cs_key_rel(char *out, enum cs_key k, const char *arg)
{
    /* Every format starts with "%s:". */
    snprintf(out, CS_KEY_MAX, formats[k] + 3, arg ? arg : "");
    return out;
}

bool cs_key_parse(const char *ns, const char *name, enum cs_key *k, char *arg, size_t argsz)
{
    size_t nl = strlen(ns);
    if (strncmp(name, ns, nl) == 0 && name[nl] == ':')
        name += nl + 1;
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < K__COUNT; i++) {
        const char *f = formats[i] + 3;
        const char *pct = strstr(f, "%s");
        size_t lit = pct ? (size_t)(pct - f) : strlen(f);
        bool match = pct ? strncmp(name, f, lit) == 0 && name[lit] != '\0' : strcmp(name, f) == 0;
        /* The longest literal part wins: "stats:charger:X" is a charger's, not a worker's. */
        if (match && (best < 0 || lit > best_len)) {
            best = i;
            best_len = lit;
        }
    }
    if (best < 0)
        return false;
    const char *rest = strstr(formats[best] + 3, "%s") ? name + best_len : "";
    if (strlen(rest) >= argsz)
        return false;
    *k = (enum cs_key)best;
    memcpy(arg, rest, strlen(rest) + 1);
    return true;
}
