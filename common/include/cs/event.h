/* event.h - the JSON of a message on {ns}:events: {"ts","type",<source>,...fields}. */
#ifndef CS_EVENT_H
#define CS_EVENT_H

#include "cs/buf.h"
#include "cs/kv.h"

/* Appends {"ts":<now ms>,"type":type,"<source_key>":source, fields...} to out. */
void cs_event_render(struct buf *out, const char *type, const char *source_key, const char *source,
                     const struct kvlist *fields);

#endif
