/* event.c - event rendering shared by the worker and the coordinator. */
#include "cs/event.h"
#include "cs/util.h"

void cs_event_render(struct buf *out, const char *type, const char *source_key, const char *source,
                     const struct kvlist *fields)
{
    struct jw j;
    jw_init(&j, out);
    jw_obj(&j);
    jw_kint(&j, "ts", cs_now_ms());
    jw_kstr(&j, "type", type);
    jw_kstr(&j, source_key, source);
    for (size_t i = 0; fields && i < fields->n; i++)
        jw_kstr(&j, fields->v[i].key, fields->v[i].val);
    jw_end(&j);
}
