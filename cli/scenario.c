/* scenario.c - swarm-cli run FILE: placeholder until the scenario runner lands. */
#include <stdio.h>

#include "cli.h"

int cmd_scenario(struct cli *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    fprintf(stderr, "swarm-cli run: unknown subcommand '%s' (swarm-cli run --help)\n", argv[1]);
    return EXIT_USAGE;
}
