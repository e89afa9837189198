/* tests/unit/tu_fixture.h — small helpers shared by the plugin tests. */
#ifndef XGW_TU_FIXTURE_H
#define XGW_TU_FIXTURE_H

#include "xgw/types.h"

/* Parse s as an exact decimal (NULL gives NONE); fails the test on bad input. */
xgw_dec tu_dec(const char *s);
/* Format d into one of a few rotating static buffers ("null" for NONE). */
const char *tu_dstr(xgw_dec d);
/* Read tests/fixtures/<dir>/<name> (malloc'd, caller frees). Trailing
 * newlines are removed: fixture files end with one, answers do not. */
char *tu_read_fixture(const char *dir, const char *name);

#endif
