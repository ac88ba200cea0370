/* answers.h - the platform's answers to a charger's CALLs (above session.c, which sent
 * them). [loop] */
#ifndef CS_AGENT_ANSWERS_H
#define CS_AGENT_ANSWERS_H

struct callq;
struct call;

/* How a CALL ended (calls_end_fn). */
void answers_on_end(struct callq *q, const struct call *c);

#endif
