/* placeholder until the request-path work lands */
#include "cli.h"
const struct cli_command cli_cmds_ops[] = {{0}};
