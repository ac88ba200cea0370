/* trigger.h - a charger sends a message now: a built-in one (fields in args override the
 * builder's) or a user-defined one from {ns}:catalog; conn < 0 picks connector 1 for messages
 * about a connector. Transaction messages (and MeterValues of an open transaction) are kept
 * while offline like the charger's own. CS_ERR_STATE when not connected. [loop] */
#ifndef CS_AGENT_TRIGGER_H
#define CS_AGENT_TRIGGER_H

#include "cs/err.h"
#include "cs/kv.h"

struct charger_rt;

int trigger_send(struct charger_rt *ch, const char *msg, int conn, const struct kvlist *args,
                 struct cs_error *err);
/* Authorize for id_tag (NULL: the id_tag template) without a session: the answer's idTagInfo
 * goes into the Authorization Cache (answers.c). */
int trigger_authorize(struct charger_rt *ch, const char *id_tag, struct cs_error *err);

#endif
