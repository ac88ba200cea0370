/* emit.h - building and sending a charger's own messages: the context the built-in payload
 * builders read (common/src/catalog.c), and the CALL it becomes (calls.h). [loop] */
#ifndef CS_AGENT_EMIT_H
#define CS_AGENT_EMIT_H

#include "calls.h"
#include "crt.h"

/* The builder's view of connector conn (0: the charge point) now; registers brought up to date. */
void emit_ctx(struct charger_rt *ch, int conn, struct msg_ctx *x);
/* Queues message id as a CALL, in the charger's OCPP version (2.0.1: a transaction's messages
 * become TransactionEvents); a failure is logged (debug) and returned. */
int emit_msg(struct charger_rt *ch, enum msg_id id, const struct msg_ctx *x, unsigned flags,
             enum call_cont cont);
/* OCPP 2.0.1: the transactionId the charger gives the transaction of conn (the platform does
 * not assign one): `<index>-<start ms, hex>-<n>`; and the connector whose open transaction has
 * that key (-1: none). */
#define EMIT_TX_KEY_MAX 37
void emit_tx_key(const struct charger_rt *ch, int conn, char out[EMIT_TX_KEY_MAX]);
int emit_tx_find(const struct charger_rt *ch, const char *key);
/* Fills a TransactionEvent's fields of x (its connector's open transaction; event Started,
 * Updated or Ended): its key (in key), the next seqNo, whether the charger is offline. */
void emit_tx_event(struct charger_rt *ch, struct msg_ctx *x, const char *event,
                   char key[EMIT_TX_KEY_MAX]);
/* StatusNotification of connector conn, with info when not NULL/empty. */
void emit_status(struct charger_rt *ch, int conn, const char *info);
/* The idTag a session uses: the one given, else the charger's id_tag template. */
void emit_id_tag(struct charger_rt *ch, const char *given, char out[21]);

#endif
