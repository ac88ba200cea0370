/* supervisor.h - forks the worker processes (before anything starts paho's threads),
 * restarts any that dies under its slot name, and forwards SIGTERM/SIGINT for a graceful
 * stop. */
#ifndef CS_SUPERVISOR_H
#define CS_SUPERVISOR_H

#include "worker.h"

/* Runs until every worker has exited after a stop signal; returns the exit code. */
int supervisor_run(const struct agent_opts *ao);

#endif
