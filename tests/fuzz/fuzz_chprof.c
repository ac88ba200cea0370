/* Fuzz target: charging profiles from the platform. The input is JSON, one profile object or
 * an array of them; each is parsed for a connector, installed, and the set then answers limits
 * and composite schedules at a few times, before being cleared piece by piece. */
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cs/chprof.h"

#define T0 1767571200000LL /* 2026-01-05T00:00:00.000Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void install_one(struct chprof_set *s, const cJSON *obj, int conn, const struct chp_ctx *ctx)
{
    struct chprof p;
    struct cs_error err;
    const char *code;
    if (chprof_parse(obj, conn, T0, &p, &code, &err) != CS_OK) {
        if (!code)
            __builtin_trap(); /* every refusal names the CALLERROR code to answer with */
        return;
    }
    chprof_install(s, &p, ctx, &err);
    if (s->n > CHPROF_MAX_INSTALLED)
        __builtin_trap();
}

static void query(const struct chprof_set *s, const struct chp_ctx *ctx, int64_t t)
{
    for (int conn = 0; conn < 3; conn++) {
        int64_t next;
        double w = chprof_limit_w(s, conn, ctx, t, &next);
        if (next <= t || w != w)
            __builtin_trap(); /* the next change lies ahead; a limit is a number */
        /* the connector's limit is the lowest of its parts */
        double want = ctx && ctx->max_w > 0 ? ctx->max_w : -1;
        double part[2] = {chprof_tx_limit_w(s, conn, ctx, t, NULL),
                          chprof_cp_limit_w(s, ctx, t, NULL)};
        for (int i = 0; i < 2; i++)
            if (part[i] >= 0 && (want < 0 || part[i] < want))
                want = part[i];
        if (w != want)
            __builtin_trap();
        struct buf b = BUF_INIT;
        struct jw j;
        jw_init(&j, &b);
        jw_obj(&j);
        chprof_composite_json(s, conn, ctx, t, (int32_t)(t % 200000), (enum chp_unit)(conn % 2),
                              &j);
        jw_end(&j);
        cJSON *again = cJSON_ParseWithLength(b.s, b.len);
        if (!again)
            __builtin_trap(); /* the answer is valid JSON */
        cJSON_Delete(again);
        buf_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        return 0;
    struct chprof_set s = {0};
    struct chp_ctx ctx = {.tx_active = true, .tx_id = 7, .tx_start_ms = T0 + 90000, .max_w = 22000};
    if (cJSON_IsArray(root)) {
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, root)
        {
            if (i > 40)
                break;
            install_one(&s, e, i++ % 3, &ctx);
        }
    } else {
        install_one(&s, root, (int)(size % 3), &ctx);
    }
    static const int64_t at[] = {T0 - 1, T0, T0 + 90000, T0 + 86399999, T0 + 8 * 86400000LL};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
        query(&s, i % 2 ? &ctx : NULL, at[i]);
    chprof_tx_ended(&s, 1);
    chprof_clear(&s, 1, -1, -1, -1);
    chprof_clear(&s, -1, 2, CHP_TX_DEFAULT, -1);
    chprof_clear(&s, -1, -1, -1, 0);
    query(&s, &ctx, T0 + 3600000);
    chprof_free(&s);
    cJSON_Delete(root);
    return 0;
}
