/* Fuzz target: config value parsers (every key of both schemas), Redis URLs, range sets and
 * ID formats. The first byte picks the parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs/cfg.h"
#include "cs/ids.h"
#include "cs/rset.h"
#include "cs/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *v = malloc(size);
    memcpy(v, data + 1, size - 1);
    v[size - 1] = '\0';
    struct cs_error err;
    unsigned pick = data[0];
    const struct cfg_schema *schemas[] = {&cfg_charger_schema, &cfg_fleet_schema};
    size_t total = cfg_charger_schema.n + cfg_fleet_schema.n;
    if (pick < total) {
        const struct cfg_schema *s = pick < cfg_charger_schema.n ? schemas[0] : schemas[1];
        size_t i = pick < cfg_charger_schema.n ? pick : pick - cfg_charger_schema.n;
        struct charger_cfg cc;
        struct fleet_cfg fc;
        void *obj = s == schemas[0] ? (void *)&cc : (void *)&fc;
        cfg_defaults(s, obj);
        if (cfg_set(s, obj, s->defs[i].name, v, &err) == CS_OK) {
            struct buf b = BUF_INIT;
            cfg_format(&s->defs[i], obj, false, &b);
            /* A stored value formats back to something the schema accepts. */
            if (cfg_check(s, s->defs[i].name, buf_cstr(&b), &err) != CS_OK)
                __builtin_trap();
            buf_free(&b);
        }
    } else if (pick % 3 == 0) {
        struct redis_url u;
        redis_url_parse(&u, v, &err);
    } else if (pick % 3 == 1) {
        struct rset s = RSET_INIT;
        if (rset_parse(&s, v, &err) == CS_OK) {
            struct buf b = BUF_INIT;
            struct rset t = RSET_INIT;
            rset_format(&s, &b);
            if (rset_parse(&t, buf_cstr(&b), &err) != CS_OK || !rset_equal(&s, &t))
                __builtin_trap();
            rset_free(&t);
            buf_free(&b);
        }
        rset_free(&s);
    } else {
        struct idfmt f;
        if (idfmt_parse(&f, v, &err) == CS_OK) {
            char id[CS_ID_MAX + 1];
            uint32_t back;
            idfmt_format(&f, 12345, id, sizeof(id));
            if (!idfmt_index(&f, id, &back) || back != 12345)
                __builtin_trap();
        }
    }
    free(v);
    return 0;
}
