/* keys.c - the key and channel name table. */
#include <stdio.h>

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
    [K_CATALOG] = "%s:catalog",
    [K_LAYERS] = "%s:layers",
    [K_LAYER] = "%s:cfg:layer:%s",
    [K_CMDLOG] = "%s:cmdlog",
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
};
_Static_assert(ARRAY_SIZE(formats) == K__COUNT, "key formats out of step with enum cs_key");

const char *cs_key(char *out, const char *ns, enum cs_key k, const char *arg)
{
    snprintf(out, CS_KEY_MAX, formats[k], ns, arg ? arg : "");
    return out;
}
