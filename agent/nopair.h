/* nopair.h - libmosquitto opens a socket pair in every client it creates, only to wake its own
 * select() loop from another thread. Driven from the worker's loop the pair is never read, yet it
 * costs two descriptors per charger and a write(2) per publish. While nopair_begin is in force on
 * the calling thread, socketpair(2) fails with EMFILE; libmosquitto logs a warning, leaves the
 * pair unset and works without it. Nothing else in the process is affected. [loop] */
#ifndef CS_AGENT_NOPAIR_H
#define CS_AGENT_NOPAIR_H

void nopair_begin(void);
void nopair_end(void);

#endif
