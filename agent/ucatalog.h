/* ucatalog.h - the user-defined messages of {ns}:catalog, compiled: a name that is not a
 * built-in message and fits in a topic, a template that compiles (common/src/jtmpl.c), and
 * bounds on both (UCATALOG_MAX messages, UCATALOG_TEMPLATE_MAX bytes each) so that a catalog
 * cannot cost unbounded memory or time on every reload. A refused entry is reported once (a
 * log line and a catalog_rejected event) and stays out. [loop] */
#ifndef CS_AGENT_UCATALOG_H
#define CS_AGENT_UCATALOG_H

#include "cs/kv.h"
#include "ctx.h"

#define UCATALOG_MAX 256
#define UCATALOG_TEMPLATE_MAX 16384

/* Replaces c's messages with those of a fresh snapshot of {ns}:catalog. */
void ucatalog_set(struct ucatalog *c, const struct kvlist *in, struct agent_ctx *x);
void ucatalog_free(struct ucatalog *c);

#endif
