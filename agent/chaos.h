/* chaos.h - faults a charger stages on purpose: a malformed frame (garble), the next message
 * twice (dup), a reconnect of everyone selected at once, past the ramp (storm). [loop] */
#ifndef CS_AGENT_CHAOS_H
#define CS_AGENT_CHAOS_H

#include <stdbool.h>

#include "cs/err.h"

struct charger_rt;

/* Whether kind names a garble kind; their names, comma-separated (help, errors). */
bool chaos_garble_kind_valid(const char *kind);
const char *chaos_garble_kinds(void);
/* kind NULL: "truncated"; msg NULL: the frame goes where a Heartbeat would. */
int chaos_garble(struct charger_rt *ch, const char *kind, const char *msg, struct cs_error *err);
int chaos_dup_next(struct charger_rt *ch, struct cs_error *err);
int chaos_storm(struct charger_rt *ch, struct cs_error *err);

#endif
