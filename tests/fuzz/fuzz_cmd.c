/* Fuzz target: the command parser (line and JSON forms, and back to both) and the selector
 * compiler/matcher. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cs/cmd.h"
#include "cs/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmd c;
    struct cs_error err;
    char id[CMD_ID_MAX + 1];
    cmd_salvage_id((const char *)data, size, id);
    if (cmd_parse((const char *)data, size, &c, &err) == CS_OK) {
        struct buf b = BUF_INIT;
        cmd_to_json(&c, &b);
        struct cmd again;
        /* What we serialise must parse again. */
        if (cmd_parse(b.s, b.len, &again, &err) != CS_OK)
            __builtin_trap();
        cmd_free(&again);
        /* ... and so must its line form (the coordinator's page shows it), to the same
         * selector and arguments. */
        buf_reset(&b);
        cmd_to_line(&c, true, &b);
        if (cmd_parse(b.s, b.len, &again, &err) != CS_OK || again.def != c.def ||
            again.args.n != c.args.n || again.npos != c.npos ||
            (c.select && (!again.select || strcmp(again.select, c.select) != 0)))
            __builtin_trap();
        for (size_t i = 0; i < c.args.n; i++)
            if (strcmp(c.args.v[i].val, again.args.v[i].val) != 0)
                __builtin_trap();
        cmd_free(&again);
        buf_free(&b);
        if (c.select) {
            struct idfmt f;
            idfmt_parse(&f, "CP-%06u", NULL);
            struct sel *s = sel_parse(c.select, &f, &err);
            if (s) {
                struct sel_subject subj = {.id = "CP-000042", .index = 42, .worker = "host.w0"};
                sel_match(s, &subj);
                sel_free(s);
            }
        }
        cmd_free(&c);
    }
    return 0;
}
