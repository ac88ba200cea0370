/* Fuzz target: per-action fields of a stats hash as the coordinator reads them from Redis
 * (astats_add), one "FIELD<TAB>VALUE" per line. Whatever it takes must render and parse back
 * to the same figures. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs/astats.h"
#include "cs/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct astats *a, const struct astats *b)
{
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *x = astats_row_at(a, (enum astats_dir)d, i);
            if (!x || !(x->calls || x->answered || x->errors || x->timeouts || x->lat.count))
                continue;
            const struct astats_row *y = astats_find(b, (enum astats_dir)d, x->name);
            if (!y || x->calls != y->calls || x->answered != y->answered ||
                x->errors != y->errors || x->lat.count != y->lat.count ||
                x->lat.sum != y->lat.sum || x->lat.max != y->lat.max ||
                (x->lat.count && x->min_us != y->min_us) ||
                memcmp(x->code, y->code, sizeof(x->code)) != 0 ||
                memcmp(x->lat.b, y->lat.b, sizeof(x->lat.b)) != 0)
                __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kvlist in = KVLIST_INIT;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *tab = memchr(p, '\t', (size_t)(le - p));
        if (tab && !memchr(p, '\0', (size_t)(le - p)))
            kv_setn(&in, p, (size_t)(tab - p), tab + 1, (size_t)(le - tab - 1));
        p = le + (nl != NULL);
    }
    struct astats *sum = cs_calloc(1, sizeof(*sum)), *back = cs_calloc(1, sizeof(*back));
    astats_add(sum, &in, ASTATS_R_ALL);
    astats_add(sum, &in, ASTATS_R_CUM);
    struct kvlist out = KVLIST_INIT;
    astats_render(sum, ASTATS_R_ALL, &out);
    astats_add(back, &out, ASTATS_R_ALL);
    same(sum, back);
    kv_free(&out);
    kv_free(&in);
    cs_free(sum);
    cs_free(back);
    return 0;
}
