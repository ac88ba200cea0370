/* emit.h - building and sending a charger's own messages: the context the built-in payload
 * builders read (common/src/catalog.c), and the CALL it becomes (calls.h). [loop] */
#ifndef CS_AGENT_EMIT_H
#define CS_AGENT_EMIT_H

#include "calls.h"
#include "crt.h"

/* The builder's view of connector conn (0: the charge point) now; registers brought up to date. */
void emit_ctx(struct charger_rt *ch, int conn, struct msg_ctx *x);
/* Queues message id as a CALL; a failure is logged (debug) and returned. */
int emit_msg(struct charger_rt *ch, enum msg_id id, const struct msg_ctx *x, unsigned flags,
             enum call_cont cont);
/* StatusNotification of connector conn, with info when not NULL/empty. */
void emit_status(struct charger_rt *ch, int conn, const char *info);
/* The idTag a session uses: the one given, else the charger's id_tag template. */
void emit_id_tag(struct charger_rt *ch, const char *given, char out[21]);

#endif
